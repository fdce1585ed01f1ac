using System.Diagnostics.Metrics;
using ChatGrains.Grains;
using ChatGrains.Silo;
using Microsoft.Extensions.Options;
using Orleans;

namespace ChatGrains.ApiGateway.Http;

/// <summary>Endpoint metadata: this endpoint is limited per client IP, counted under <paramref name="Bucket"/>.</summary>
public sealed record RateLimitedPerClient(string Bucket);

/// <summary>
/// Per-client limits (<see cref="ClientKeys"/>) for the session endpoints. Each client's count
/// lives in one <see cref="IRateLimitGrain"/> for the whole cluster, so a cluster admits the limit
/// once, not once per node. Every limited response carries the IETF httpapi draft headers
/// (<c>RateLimit-Policy</c>, <c>RateLimit</c>); a 429 adds <c>Retry-After</c>.
/// </summary>
/// <remarks>
/// A middleware of ours rather than ASP.NET Core's <c>UseRateLimiter</c>: the decision is one grain
/// call, which that middleware could only reach through a partitioned limiter pretending every
/// lease is pending; and that middleware never disposes the endpoint limiter it builds, whose
/// timer keeps the whole stopped application reachable (dotnet/aspnetcore#66434), every node of a
/// process that hosts several in turn, as the test suite does.
/// </remarks>
public static class SessionRateLimiting
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static IServiceCollection AddSessionRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimitingOptions();
        services.AddSingleton<RateLimitMetrics>();
        return services;
    }

    public static IApplicationBuilder UseSessionRateLimiting(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<RateLimitingOptions>>().Value;
        return options.Enabled ? app.UseMiddleware<ClientRateLimitMiddleware>() : app;
    }

    /// <summary>Endpoints without <see cref="RateLimitedPerClient"/> pass untouched.</summary>
    internal sealed class ClientRateLimitMiddleware(
        RequestDelegate next,
        IGrainFactory grains,
        ClientKeys clients,
        RateLimitMetrics metrics,
        IOptions<RateLimitingOptions> options,
        ILogger<ClientRateLimitMiddleware> logger)
    {
        public async Task InvokeAsync(HttpContext http)
        {
            if (http.GetEndpoint()?.Metadata.GetMetadata<RateLimitedPerClient>()?.Bucket is not { } bucket)
            {
                await next(http);
                return;
            }
            var limit = options.Value.PermitsPerMinute;
            var client = clients.Of(http);
            var decision = await ClusterAvailability.CallAsync(http, () => grains.GetGrain<IRateLimitGrain>($"{bucket}:{client}").AcquireOrAdmitAsync(limit, Window, options.Value.LimiterAnswerWait, logger));

            var policy = RateLimitHeaders.PolicyItem("per-client", limit, Window);
            var state = RateLimitHeaders.StateItem("per-client", decision);
            // At response start: an error response's headers are cleared by the exception handler first.
            http.Response.OnStarting(() =>
            {
                http.Response.Headers["RateLimit-Policy"] = policy;
                http.Response.Headers["RateLimit"] = state;
                return Task.CompletedTask;
            });
            if (decision.Admitted)
            {
                await next(http);
                return;
            }
            metrics.Rejected(bucket);
            http.Response.Headers.RetryAfter = RateLimitHeaders.RetryAfter(decision.NextPermitIn);
            await ApiErrors.FormatOf(http)
                .Respond(http, StatusCodes.Status429TooManyRequests, "Too many requests from this client; retry later.")
                .ExecuteAsync(http);
        }
    }
}

/// <summary><c>chatgrains.rate_limit.rejections</c>: requests answered 429 by the per-client limit, by endpoint bucket.</summary>
internal sealed class RateLimitMetrics
{
    private readonly Counter<long> _rejected;

    public RateLimitMetrics(IMeterFactory meters) =>
        _rejected = meters.Create(GrainMetrics.MeterName).CreateCounter<long>("chatgrains.rate_limit.rejections", unit: "{request}",
            description: "Requests refused with 429 by the per-client rate limit, by endpoint bucket.");

    public void Rejected(string? bucket) => _rejected.Add(1, new KeyValuePair<string, object?>("bucket", bucket ?? "unknown"));
}
