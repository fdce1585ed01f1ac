using System.Globalization;
using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// The IETF httpapi rate-limit draft headers, as every limited endpoint writes them: one item per
/// policy in <c>RateLimit-Policy</c> (<c>"name";q=limit;w=window</c>) and in <c>RateLimit</c>
/// (<c>"name";r=remaining;t=seconds</c>); a refusal adds <c>Retry-After</c>.
/// </summary>
internal static class RateLimitHeaders
{
    public static string PolicyItem(string name, int limit, TimeSpan window) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{name}\";q={limit};w={(int)window.TotalSeconds}");

    public static string StateItem(string name, RateLimitDecision decision) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{name}\";r={decision.Remaining};t={Seconds(decision.NextPermitIn)}");

    /// <summary>Whole seconds, rounded up, never negative.</summary>
    public static int Seconds(TimeSpan value) => (int)Math.Ceiling(Math.Max(0, value.TotalSeconds));

    /// <summary>A Retry-After value: whole seconds, at least one.</summary>
    public static string RetryAfter(TimeSpan wait) => Math.Max(1, Seconds(wait)).ToString(CultureInfo.InvariantCulture);
}
