using Orleans.Concurrency;

namespace ChatGrains.Grains;

/// <summary>What an admin sets on a webhook: where, which event types (none: all), a note, on or off.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.WebhookSettings")]
public sealed record WebhookSettings(
    [property: Id(0)] string Url,
    [property: Id(1)] string[] Types,
    [property: Id(2)] string? Description,
    [property: Id(3)] bool Enabled);

/// <summary>A webhook as the admin API shows it (never its secret).</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.Webhook")]
public sealed record Webhook(
    [property: Id(0)] Guid Id,
    [property: Id(1)] WebhookSettings Settings,
    [property: Id(2)] string? DisabledReason,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset UpdatedAt,
    [property: Id(5)] DateTimeOffset? FailingSince,
    [property: Id(6)] DateTimeOffset? PreviousSecretExpiresAt,
    [property: Id(7)] int RetryingEvents);

/// <summary>
/// One attempt to deliver an event: <c>delivered</c> (2xx), <c>failed</c> (to be tried again at
/// <see cref="NextAttemptAt"/>) or <c>dead</c> (given up: a final 4xx, or retried for
/// <c>Webhooks:RetryFor</c>; <c>redeliver</c> sends it again).
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.DeliveryAttempt")]
public sealed record DeliveryAttempt(
    [property: Id(0)] Guid EventId,
    [property: Id(1)] string EventType,
    [property: Id(2)] Guid? ChatId,
    [property: Id(3)] long? ChatSeq,
    [property: Id(4)] DateTimeOffset AttemptedAt,
    [property: Id(5)] int Attempt,
    [property: Id(6)] string Status,
    [property: Id(7)] int? StatusCode,
    [property: Id(8)] int LatencyMs,
    [property: Id(9)] string? Error,
    [property: Id(10)] DateTimeOffset? NextAttemptAt);

public static class DeliveryStatus
{
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Dead = "dead";

    public static readonly IReadOnlyList<string> All = [Delivered, Failed, Dead];
}

/// <summary>
/// One webhook, keyed by its id: its settings and encrypted secret, and its deliveries — it reads
/// the event log from its cursor and sends each event at least once, a chat's events in chatSeq
/// order, different chats in parallel, with retries, dead letters and self-disabling.
/// </summary>
[Alias("chatgrains.IWebhookGrain")]
public interface IWebhookGrain : IGrainWithGuidKey
{
    /// <summary>Creates the webhook with its (data-protected) signing secret; it delivers the events stored from now on.</summary>
    [Alias("Create")]
    Task<Webhook> Create(WebhookSettings settings, string protectedSecret);

    // Reads answer while a delivery round is under way (it may wait for a receiver for seconds).
    [Alias("Find"), AlwaysInterleave]
    Task<Webhook?> Find();

    /// <summary>Replaces the settings; enabling a disabled webhook clears why it was disabled.</summary>
    [Alias("Update")]
    Task<Webhook?> Update(WebhookSettings settings);

    [Alias("Delete")]
    Task<bool> Delete();

    /// <summary>Signs with the new secret from now on, and also with the current one until <paramref name="previousUntil"/>.</summary>
    [Alias("RotateSecret")]
    Task<Webhook?> RotateSecret(string protectedSecret, DateTimeOffset previousUntil);

    /// <summary>Sends a <c>webhook.test</c> event now; null when the webhook does not exist.</summary>
    [Alias("SendTest")]
    Task<DeliveryAttempt?> SendTest();

    /// <summary>The recent attempts, newest first, optionally of one status.</summary>
    [Alias("Deliveries"), AlwaysInterleave]
    Task<DeliveryAttempt[]?> Deliveries(string? status);

    /// <summary>Sends a stored event again, now; null when the webhook or the event does not exist.</summary>
    [Alias("Redeliver")]
    Task<DeliveryAttempt?> Redeliver(Guid eventId);

    /// <summary>Makes sure the webhook is active and delivering (called by every node's keep-alive).</summary>
    [Alias("Wake")]
    Task Wake();
}

/// <summary>The ids of every webhook (one grain, key 0), so they can be listed and kept delivering.</summary>
[Alias("chatgrains.IWebhookRegistryGrain")]
public interface IWebhookRegistryGrain : IGrainWithIntegerKey
{
    [Alias("Add")]
    Task Add(Guid webhookId);

    [Alias("Remove")]
    Task Remove(Guid webhookId);

    [Alias("List")]
    Task<Guid[]> List();
}
