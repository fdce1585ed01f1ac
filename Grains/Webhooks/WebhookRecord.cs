namespace ChatGrains.Grains;

/// <summary>A webhook's stored state: its settings and secrets, and where its delivery stands.</summary>
public sealed class WebhookRecord
{
    public WebhookSettings? Settings { get; set; }

    /// <summary>The signing secret (<c>whsec_…</c>), encrypted with the node's data-protection keys.</summary>
    public string ProtectedSecret { get; set; } = "";

    /// <summary>The secret before the last rotation, also used to sign until <see cref="PreviousSecretUntil"/>.</summary>
    public string? PreviousProtectedSecret { get; set; }

    public DateTimeOffset? PreviousSecretUntil { get; set; }

    public string? DisabledReason { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>After the last event taken from the log: delivered, dead-lettered, or waiting in <see cref="Retrying"/>.</summary>
    public EventPosition Cursor { get; set; }

    /// <summary>Since when every delivery has failed; null after a success.</summary>
    public DateTimeOffset? FailingSince { get; set; }

    /// <summary>
    /// Set while every event at the cursor fails (the receiver is down): the webhook backs off as
    /// a whole and takes nothing more from the log until an attempt succeeds.
    /// </summary>
    public RetryLine? Stalled { get; set; }

    /// <summary>
    /// The chats (an event without a chat: that event) whose delivery failed while others'
    /// succeeded: their events wait here, in order, for their next attempt; later events of those
    /// chats join the queue.
    /// </summary>
    public Dictionary<string, RetryLine> Retrying { get; set; } = [];

    /// <summary>The last failed and dead-lettered attempts, newest first.</summary>
    public List<DeliveryAttempt> Failures { get; set; } = [];
}

/// <summary>Events waiting for their next attempt, and how their first one has fared so far.</summary>
public sealed class RetryLine
{
    public List<Guid> EventIds { get; set; } = [];

    /// <summary>Failed attempts of the first event.</summary>
    public int Attempts { get; set; }

    /// <summary>When the first event's first attempt failed.</summary>
    public DateTimeOffset FirstFailedAt { get; set; }

    public DateTimeOffset NextAttemptAt { get; set; }
}
