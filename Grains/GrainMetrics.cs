using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ChatGrains.Grains;

/// <summary>
/// The service's own meter: grains created per kind, counted by the activation whose write
/// created the grain, and the life of chats (closes by reason, reopens, ratings, the open chats
/// whose grain is active on this node), and the events stored with their changes. Exported with the ASP.NET Core, runtime, Orleans and
/// Npgsql meters.
/// </summary>
public sealed class GrainMetrics
{
    public const string MeterName = "ChatGrains";

    private readonly Counter<long> _created;
    private readonly Counter<long> _closed;
    private readonly Counter<long> _reopened;
    private readonly Histogram<int> _ratings;
    private readonly Counter<long> _eventsStored;
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _deadLetters;
    private readonly Histogram<double> _deliveryLag;
    private readonly ConcurrentDictionary<Guid, int> _webhookBacklogs = new();
    private long _openActive;

    public GrainMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _created = meter.CreateCounter<long>("chatgrains.grains.created", unit: "{grain}",
            description: "Grains created, by kind (chat, guestSession, liveChatSession).");
        _closed = meter.CreateCounter<long>("chatgrains.chats.closed", unit: "{chat}",
            description: "Chats closed, by reason (VISITOR, COMMERCIAL, ADMIN, INACTIVITY, UNANSWERED).");
        _reopened = meter.CreateCounter<long>("chatgrains.chats.reopened", unit: "{chat}",
            description: "Closed chats reopened by their visitor.");
        _ratings = meter.CreateHistogram("chatgrains.chats.rating", unit: "{star}",
            description: "Visitors' ratings of closed chats, 1 to 5.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 3, 4, 5] });
        _eventsStored = meter.CreateCounter<long>("chatgrains.events.stored", unit: "{event}",
            description: "Events stored in the event log with the change they report, by type (chat.created, message.created, ...).");
        _deliveries = meter.CreateCounter<long>("chatgrains.webhooks.deliveries", unit: "{attempt}",
            description: "Webhook delivery attempts, by outcome (delivered, failed: to be retried, dead: given up).");
        _deadLetters = meter.CreateCounter<long>("chatgrains.webhooks.dead_letters", unit: "{event}",
            description: "Events a webhook gave up on (a final 4xx, or retried for Webhooks:RetryFor).");
        _deliveryLag = meter.CreateHistogram("chatgrains.webhooks.delivery_lag", unit: "s",
            description: "From an event's change to its receiver's 2xx.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600] });
        meter.CreateObservableGauge("chatgrains.webhooks.backlog", () => _webhookBacklogs.Select(b =>
                new Measurement<int>(b.Value, new KeyValuePair<string, object?>("webhook", b.Key.ToString()))), unit: "{event}",
            description: "Events waiting in a webhook's retry lines, per webhook active on this node.");
        meter.CreateObservableGauge("chatgrains.chats.open_active", () => Interlocked.Read(ref _openActive), unit: "{chat}",
            description: "Open (not CLOSED) chats whose grain is active on this node.");
    }

    internal void Created(string kind) => _created.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void Closed(CloseReason reason) => _closed.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString().ToUpperInvariant()));

    internal void Reopened() => _reopened.Add(1);

    internal void Rated(int score) => _ratings.Record(score);

    internal void Delivery(string outcome)
    {
        _deliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome == DeliveryStatus.Dead)
        {
            _deadLetters.Add(1);
        }
    }

    internal void Delivered(TimeSpan lag) => _deliveryLag.Record(Math.Max(0, lag.TotalSeconds));

    /// <summary>A webhook's retry lines now hold <paramref name="events"/>; null when its activation ends.</summary>
    internal void WebhookBacklog(Guid webhookId, int? events)
    {
        if (events is { } count)
        {
            _webhookBacklogs[webhookId] = count;
        }
        else
        {
            _webhookBacklogs.TryRemove(webhookId, out _);
        }
    }

    internal void EventStored(string type) => _eventsStored.Add(1, new KeyValuePair<string, object?>("type", type));

    /// <summary>An activation of an open chat began (+1) or ended, or its chat closed (−1).</summary>
    internal void OpenActive(int change) => Interlocked.Add(ref _openActive, change);
}
