namespace ChatGrains.Grains;

/// <summary>
/// A sliding-window limit for one key (an endpoint bucket and a client), counted in memory by
/// the key's single activation in the cluster: every node asks the same grain.
/// </summary>
[Alias("chatgrains.IRateLimitGrain")]
public interface IRateLimitGrain : IGrainWithStringKey
{
    /// <summary>Admits one request while fewer than <paramref name="limit"/> were admitted in the last <paramref name="window"/>.</summary>
    [Alias("Acquire")]
    Task<RateLimitDecision> Acquire(int limit, TimeSpan window);

    /// <summary>What <see cref="Acquire"/> would decide now, without counting a request.</summary>
    [Alias("Peek")]
    Task<RateLimitDecision> Peek(int limit, TimeSpan window);
}

/// <summary>
/// A sliding-window decision: a request is admitted while fewer than <c>Limit</c> requests were
/// admitted in the window before it, so no window of that length ever holds more.
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.RateLimitDecision")]
public readonly record struct RateLimitDecision(
    [property: Id(0)] bool Admitted,
    [property: Id(1)] int Limit,
    [property: Id(2)] int Remaining,
    [property: Id(3)] TimeSpan NextPermitIn);
