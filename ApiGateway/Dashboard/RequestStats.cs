using System.Collections.Concurrent;
using System.Diagnostics;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Silo.Membership;
using Microsoft.AspNetCore.Diagnostics;

namespace ChatGrains.ApiGateway.Dashboard;

/// <summary>
/// Counts every API request into the current interval: a few interlocked increments per
/// request, whether or not anyone watches. The membership heartbeat takes the interval's
/// snapshot and starts the next one, so memory stays bounded.
/// </summary>
public sealed class RequestStats(TimeProvider clock) : INodeStatsSource
{
    private const int MaxErrorsPerInterval = 50;

    private Interval _current = new(clock.GetTimestamp());
    private TimeSpan _lastCpu = Process.GetCurrentProcess().TotalProcessorTime;

    public void Record(string route, double milliseconds, int status, string traceId)
    {
        var interval = _current;
        interval.Routes.GetOrAdd(route, _ => new Counters()).Record(milliseconds, status);
        if (status >= 500 && interval.Errors.Count < MaxErrorsPerInterval)
        {
            interval.Errors.Enqueue(new RecentError(traceId, route, status, clock.GetUtcNow()));
        }
    }

    public NodeStats TakeSnapshot(int databaseConnections)
    {
        var now = clock.GetTimestamp();
        var interval = Interlocked.Exchange(ref _current, new Interval(now));
        var seconds = Math.Max(clock.GetElapsedTime(interval.Started, now).TotalSeconds, 0.001);

        var endpoints = interval.Routes.ToDictionary(r => r.Key, r => r.Value.Snapshot(seconds), StringComparer.Ordinal);
        var all = LatencyHistogram.Merge(endpoints.Values.Select(e => e.Histogram));
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var cpuPercent = (cpu - _lastCpu).TotalSeconds / seconds / Environment.ProcessorCount * 100;
        _lastCpu = cpu;

        return new NodeStats(
            At: clock.GetUtcNow(),
            IntervalSeconds: seconds,
            RequestsPerSecond: endpoints.Values.Sum(e => e.Requests) / seconds,
            Latency: LatencyHistogram.Latency(all),
            ClientErrors: endpoints.Values.Sum(e => e.ClientErrors),
            ServerErrors: endpoints.Values.Sum(e => e.ServerErrors),
            RateLimited: endpoints.Values.Sum(e => e.RateLimited),
            CpuPercent: Math.Round(cpuPercent, 1),
            WorkingSetMb: Math.Round(Environment.WorkingSet / 1048576.0, 1),
            GcHeapMb: Math.Round(GC.GetTotalMemory(forceFullCollection: false) / 1048576.0, 1),
            ThreadPoolQueue: ThreadPool.PendingWorkItemCount,
            DatabaseConnections: databaseConnections,
            Endpoints: endpoints,
            Errors: [.. interval.Errors]);
    }

    private sealed class Interval(long started)
    {
        public long Started { get; } = started;

        public ConcurrentDictionary<string, Counters> Routes { get; } = new(StringComparer.Ordinal);

        public ConcurrentQueue<RecentError> Errors { get; } = new();
    }

    private sealed class Counters
    {
        private readonly long[] _histogram = new long[LatencyHistogram.BoundsMs.Length];
        private long _requests, _clientErrors, _serverErrors, _rateLimited;

        public void Record(double milliseconds, int status)
        {
            Interlocked.Increment(ref _requests);
            Interlocked.Increment(ref _histogram[LatencyHistogram.BucketOf(milliseconds)]);
            if (status == StatusCodes.Status429TooManyRequests)
            {
                Interlocked.Increment(ref _rateLimited);
            }
            else if (status >= 500)
            {
                Interlocked.Increment(ref _serverErrors);
            }
            else if (status >= 400)
            {
                Interlocked.Increment(ref _clientErrors);
            }
        }

        public EndpointStats Snapshot(double seconds)
        {
            long[] histogram = [.. _histogram];
            return new EndpointStats(_requests, Math.Round(_requests / seconds, 2), LatencyHistogram.Latency(histogram),
                _clientErrors, _serverErrors, _rateLimited, histogram);
        }
    }
}

public static class RequestStatsMiddleware
{
    /// <summary>
    /// Outside the exception handler, so a failed request is counted with the status it was
    /// answered with. Only the APIs' endpoints (those with an error format) are counted: the
    /// dashboard polling itself does not show up in what it shows.
    /// </summary>
    public static IApplicationBuilder UseRequestStats(this IApplicationBuilder app)
    {
        var stats = app.ApplicationServices.GetRequiredService<RequestStats>();
        return app.Use(async (http, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(http);
            }
            finally
            {
                var endpoint = http.GetEndpoint() ?? http.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
                if (endpoint?.Metadata.GetMetadata<ApiErrorFormat>() is not null && endpoint is RouteEndpoint route)
                {
                    stats.Record(route.RoutePattern.RawText ?? "?", Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                        http.Response.StatusCode, Tracing.TraceId(http));
                }
            }
        });
    }
}
