using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.Extensions.Options;
using Orleans;

namespace ChatGrains.ApiGateway.Dashboard;

/// <summary>
/// Failed dashboard sign-ins per client (<see cref="ClientKeys"/>: an IPv4 address or an IPv6 /64), counted cluster-wide in a rate-limit grain: past
/// <see cref="OperatorAccessOptions.FailedSignInsPerMinute"/> in a minute, every further attempt —
/// right or wrong — is refused with 429 until the oldest failure leaves the window.
/// </summary>
internal sealed class SignInAttempts(IGrainFactory grains, ClientKeys clients, IOptions<OperatorAccessOptions> options)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private int Limit => options.Value.FailedSignInsPerMinute;

    /// <summary>How long this client must wait before trying a credential, or null when it may now.</summary>
    public async Task<TimeSpan?> BlockedForAsync(HttpContext http)
    {
        var decision = await ClusterAvailability.CallAsync(http, () => GrainOf(http).Peek(Limit, Window));
        return decision.Admitted ? null : decision.NextPermitIn;
    }

    public Task FailedAsync(HttpContext http) => ClusterAvailability.CallAsync(http, () => GrainOf(http).Acquire(Limit, Window));

    public static string Seconds(TimeSpan wait) => RateLimitHeaders.RetryAfter(wait);

    private IRateLimitGrain GrainOf(HttpContext http) =>
        grains.GetGrain<IRateLimitGrain>($"dashboard-sign-in:{clients.Of(http)}");
}
