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
        meter.CreateObservableGauge("chatgrains.chats.open_active", () => Interlocked.Read(ref _openActive), unit: "{chat}",
            description: "Open (not CLOSED) chats whose grain is active on this node.");
    }

    internal void Created(string kind) => _created.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void Closed(CloseReason reason) => _closed.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString().ToUpperInvariant()));

    internal void Reopened() => _reopened.Add(1);

    internal void Rated(int score) => _ratings.Record(score);

    internal void EventStored(string type) => _eventsStored.Add(1, new KeyValuePair<string, object?>("type", type));

    /// <summary>An activation of an open chat began (+1) or ended, or its chat closed (−1).</summary>
    internal void OpenActive(int change) => Interlocked.Add(ref _openActive, change);
}
