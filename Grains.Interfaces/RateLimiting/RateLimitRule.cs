namespace ChatGrains.Grains;

/// <summary>
/// One limit a caller must pass: at most <paramref name="Limit"/> admissions per
/// <paramref name="Window"/>, counted by the <see cref="IRateLimitGrain"/> keyed <paramref name="Key"/>.
/// <paramref name="Policy"/> is the name the rate-limit headers give it; the limiter's answer is
/// waited for <paramref name="AnswerWait"/> at most (see <see cref="RateLimiterCalls"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.RateLimitRule")]
public sealed record RateLimitRule(
    [property: Id(0)] string Policy,
    [property: Id(1)] string Key,
    [property: Id(2)] int Limit,
    [property: Id(3)] TimeSpan Window,
    [property: Id(4)] TimeSpan AnswerWait);
