namespace ChatGrains.Grains;

/// <summary>Where and how to sign: the URL and the data-protected secrets (the previous one during a rotation's overlap).</summary>
public sealed record WebhookTarget(Guid WebhookId, string Url, string ProtectedSecret, string? PreviousProtectedSecret);

/// <summary>What the receiver answered (or why nothing was sent or answered).</summary>
public sealed record DeliveryResult(int? StatusCode, TimeSpan Latency, string? Error, TimeSpan? RetryAfter)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;

    /// <summary>A 4xx other than 408 and 429: the receiver refuses this event, and will again.</summary>
    public bool IsFinal => StatusCode is >= 400 and < 500 and not 408 and not 429;
}

/// <summary>Sends one event to one webhook: the envelope, signed (implemented by the HTTP edge, which owns the wire format).</summary>
public interface IWebhookTransport
{
    Task<DeliveryResult> SendAsync(WebhookTarget target, StoredEvent stored, CancellationToken cancellationToken);

    /// <summary>Sends a <c>webhook.test</c> event with a new id.</summary>
    Task<(Guid EventId, DeliveryResult Result)> SendTestAsync(WebhookTarget target, CancellationToken cancellationToken);
}
