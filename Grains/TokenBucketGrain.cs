using Orleans.Placement;

namespace ChatGrains.Grains;

/// <summary>
/// A token bucket in memory. A bucket left alone for <c>burst / perSecond</c> seconds is full
/// again, so losing the activation (collected, or its silo died) forgives nothing a wait would
/// not. Placed on the node that first asks: a sender's connections usually sit on one node,
/// which then decides with a local call.
/// </summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed class TokenBucketGrain(TimeProvider clock) : Grain, ITokenBucketGrain
{
    private TokenBucket? _bucket;

    public Task<RateLimitDecision> Take(double perSecond, int burst)
    {
        var now = clock.GetUtcNow();
        var bucket = (_bucket ?? TokenBucket.Full(burst, now)).RefilledTo(now, perSecond, burst);
        var (taken, decision) = bucket.Take(perSecond, burst);
        _bucket = taken;
        return Task.FromResult(decision);
    }
}

/// <summary>A token bucket's arithmetic: what it holds at a time, and what taking a token decides.</summary>
internal readonly record struct TokenBucket(double Tokens, DateTimeOffset At)
{
    public static TokenBucket Full(int burst, DateTimeOffset now) => new(burst, now);

    public TokenBucket RefilledTo(DateTimeOffset now, double perSecond, int burst) =>
        now <= At ? this : new(Math.Min(burst, Tokens + (now - At).TotalSeconds * perSecond), now);

    public (TokenBucket Bucket, RateLimitDecision Decision) Take(double perSecond, int burst)
    {
        var admitted = Tokens >= 1;
        var left = admitted ? Tokens - 1 : Tokens;
        var nextPermitIn = left >= 1 ? TimeSpan.Zero : TimeSpan.FromSeconds((1 - left) / perSecond);
        return (this with { Tokens = left }, new RateLimitDecision(admitted, burst, (int)Math.Floor(left), nextPermitIn));
    }
}
