using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using ChatGrains.Grains;
using ChatGrains.Silo;
using Microsoft.AspNetCore.RateLimiting;
using Orleans;

namespace ChatGrains.ApiGateway.Http;

/// <summary>Endpoint metadata: this endpoint is limited per client IP, counted under <paramref name="Bucket"/>.</summary>
public sealed record RateLimitedPerClient(string Bucket);

/// <summary>
/// Per-client limits (<see cref="ClientKeys"/>) for the session endpoints, plugged into ASP.NET Core's rate-limiting
/// middleware. Each client's count lives in one <see cref="IRateLimitGrain"/> for the whole
/// cluster, so a cluster admits the limit once, not once per node. Every limited response carries the
/// IETF httpapi draft headers (<c>RateLimit-Policy</c>, <c>RateLimit</c>); a 429 adds <c>Retry-After</c>.
/// </summary>
public static class SessionRateLimiting
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static IServiceCollection AddSessionRateLimiting(this IServiceCollection services)
    {
        services.AddRateLimitingOptions();
        services.AddSingleton<ClientRateLimiter>();
        services.AddSingleton<RateLimitMetrics>();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = (context, _) =>
            {
                var http = context.HttpContext;
                http.RequestServices.GetRequiredService<RateLimitMetrics>().Rejected(ClientRateLimiter.BucketOf(http));
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    http.Response.Headers.RetryAfter = RateLimitHeaders.RetryAfter(retryAfter);
                }
                return new ValueTask(ApiErrors.FormatOf(http)
                    .Respond(http, StatusCodes.Status429TooManyRequests, "Too many requests from this client; retry later.")
                    .ExecuteAsync(http));
            };
        });
        services.AddOptions<RateLimiterOptions>()
            .Configure<ClientRateLimiter>((options, limiter) => options.GlobalLimiter = limiter);
        return services;
    }

    public static IApplicationBuilder UseSessionRateLimiting(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RateLimitingOptions>>().Value;
        return options.Enabled ? app.UseRateLimiter() : app;
    }

    /// <summary>The limiter itself: endpoints without <see cref="RateLimitedPerClient"/> pass untouched.</summary>
    internal sealed class ClientRateLimiter(
        IGrainFactory grains,
        ClientKeys clients,
        Microsoft.Extensions.Options.IOptions<RateLimitingOptions> options,
        ILogger<ClientRateLimiter> logger) : PartitionedRateLimiter<HttpContext>
    {
        private static readonly RateLimitLease Unlimited = new Lease(true, null);

        private int Limit => options.Value.PermitsPerMinute;

        public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

        // The decision needs a grain call: report "not yet" so the middleware awaits AcquireAsync.
        protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) =>
            BucketOf(resource) is null ? Unlimited : new Lease(false, null);

        protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
        {
            if (BucketOf(resource) is not { } bucket)
            {
                return Unlimited;
            }
            var client = clients.Of(resource);
            var decision = await ClusterAvailability.CallAsync(resource, () => grains.GetGrain<IRateLimitGrain>($"{bucket}:{client}").AcquireOrAdmitAsync(Limit, Window, options.Value.LimiterAnswerWait, logger));

            var policy = RateLimitHeaders.PolicyItem("per-client", Limit, Window);
            var state = RateLimitHeaders.StateItem("per-client", decision);
            // At response start: an error response's headers are cleared by the exception handler first.
            resource.Response.OnStarting(() =>
            {
                resource.Response.Headers["RateLimit-Policy"] = policy;
                resource.Response.Headers["RateLimit"] = state;
                return Task.CompletedTask;
            });
            return new Lease(decision.Admitted, decision.Admitted ? null : decision.NextPermitIn);
        }

        internal static string? BucketOf(HttpContext http) =>
            http.GetEndpoint()?.Metadata.GetMetadata<RateLimitedPerClient>()?.Bucket;
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
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
