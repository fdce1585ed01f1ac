using ChatGrains.Silo.Membership;
using Microsoft.AspNetCore.Http.HttpResults;
using ChatGrains.ApiGateway.Http;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Dashboard;

/// <summary>
/// The operator dashboard: <c>/dashboard</c> (a static page) fed by <c>/dashboard/api/…</c>. Every
/// figure comes from the nodes' heartbeats in the shared database, so any node shows the whole
/// cluster; nothing is computed unless a dashboard asks.
/// </summary>
public static class DashboardApi
{
    private static readonly TimeSpan HistoryWindow = TimeSpan.FromMinutes(5);

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.Section);
        services.AddSingleton<RequestStats>();
        services.AddSingleton<INodeStatsSource>(sp => sp.GetRequiredService<RequestStats>());
        return services;
    }

    public static RouteGroupBuilder MapDashboard(this IEndpointRouteBuilder routes)
    {
        routes.MapStaticPage("/dashboard", "dashboard");

        var api = routes.MapGroup("/dashboard/api").WithTags("Dashboard").AddEndpointFilter<DashboardAccess>();
        api.MapGet("/overview", Overview);
        api.MapGet("/endpoints", Endpoints);
        api.MapGet("/grains", Grains);
        api.MapGet("/errors", Errors);
        return api;
    }

    private static async Task<Ok<DashboardOverview>> Overview(IMembershipStore store, IOptions<MembershipOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var members = await store.MembersAsync(options.Value.DeadAfter, cancellationToken);
        var nodes = members.Select(m => new NodeView(m.NodeId, m.Host, m.Url, m.Version, m.Status.ToString().ToLowerInvariant(),
            m.StartedAt, m.HeartbeatAt, m.Status == MemberStatus.Alive ? Math.Round((now - m.StartedAt).TotalSeconds) : 0, m.Stats)).ToList();
        var alive = members.Where(m => m is { Status: MemberStatus.Alive, Stats: not null }).Select(m => m.Stats!).ToList();
        var totals = new ClusterTotals(
            Alive: members.Count(m => m.Status == MemberStatus.Alive),
            Left: members.Count(m => m.Status == MemberStatus.Left),
            Dead: members.Count(m => m.Status == MemberStatus.Dead),
            RequestsPerSecond: Math.Round(alive.Sum(s => s.RequestsPerSecond), 2),
            Latency: LatencyHistogram.Latency(LatencyHistogram.Merge(alive.SelectMany(s => s.Endpoints.Values).Select(e => e.Histogram))),
            ClientErrors: alive.Sum(s => s.ClientErrors),
            ServerErrors: alive.Sum(s => s.ServerErrors),
            RateLimited: alive.Sum(s => s.RateLimited));
        return TypedResults.Ok(new DashboardOverview(now, nodes, totals));
    }

    private static async Task<Ok<IReadOnlyList<EndpointView>>> Endpoints(IMembershipStore store, IOptions<MembershipOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var members = await store.MembersAsync(options.Value.DeadAfter, cancellationToken);
        var latest = members.Where(m => m is { Status: MemberStatus.Alive, Stats: not null }).ToDictionary(m => m.NodeId, m => m.Stats!, StringComparer.Ordinal);
        var history = await store.HistoryAsync(clock.GetUtcNow() - HistoryWindow, cancellationToken);
        var heartbeat = options.Value.HeartbeatInterval;

        var routes = latest.Values.SelectMany(s => s.Endpoints.Keys)
            .Concat(history.SelectMany(h => h.Stats.Endpoints.Keys))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal);
        IReadOnlyList<EndpointView> views =
        [
            .. routes.Select(route =>
            {
                var perNode = latest
                    .Where(n => n.Value.Endpoints.ContainsKey(route))
                    .ToDictionary(n => n.Key, n => EndpointFigures.From([n.Value.Endpoints[route]]), StringComparer.Ordinal);
                var cluster = EndpointFigures.From([.. latest.Values.Where(s => s.Endpoints.ContainsKey(route)).Select(s => s.Endpoints[route])]);
                // One point per heartbeat period: the nodes' snapshots of that period added up.
                var points = history
                    .Where(h => h.Stats.Endpoints.ContainsKey(route))
                    .GroupBy(h => new DateTimeOffset(h.Stats.At.UtcTicks / heartbeat.Ticks * heartbeat.Ticks, TimeSpan.Zero))
                    .OrderBy(g => g.Key)
                    .Select(g =>
                    {
                        var figures = EndpointFigures.From([.. g.Select(h => h.Stats.Endpoints[route])]);
                        return new HistoryPoint(g.Key, figures.RequestsPerSecond, figures.Latency.P99Ms);
                    })
                    .ToList();
                return new EndpointView(route, cluster, perNode, points);
            }),
        ];
        return TypedResults.Ok(views);
    }

    private static async Task<Ok<IReadOnlyList<GrainCounts>>> Grains(IMembershipStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.GrainCountsAsync(cancellationToken));

    private static async Task<Ok<IReadOnlyList<NodeError>>> Errors(IMembershipStore store, TimeProvider clock, CancellationToken cancellationToken)
    {
        var history = await store.HistoryAsync(clock.GetUtcNow() - HistoryWindow, cancellationToken);
        IReadOnlyList<NodeError> errors =
        [
            .. history.SelectMany(h => h.Stats.Errors.Select(e => new NodeError(h.NodeId, e.TraceId, e.Route, e.Status, e.At)))
                .OrderByDescending(e => e.At)
                .Take(50),
        ];
        return TypedResults.Ok(errors);
    }
}

public sealed record DashboardOverview(DateTimeOffset GeneratedAt, IReadOnlyList<NodeView> Nodes, ClusterTotals Totals);

public sealed record NodeView(string NodeId, string Host, string Url, string Version, string Status, DateTimeOffset StartedAt, DateTimeOffset HeartbeatAt, double UptimeSeconds, NodeStats? Stats);

public sealed record ClusterTotals(int Alive, int Left, int Dead, double RequestsPerSecond, LatencyStats Latency, long ClientErrors, long ServerErrors, long RateLimited);

public sealed record EndpointView(string Route, EndpointFigures Cluster, IReadOnlyDictionary<string, EndpointFigures> Nodes, IReadOnlyList<HistoryPoint> History);

public sealed record EndpointFigures(long Requests, double RequestsPerSecond, LatencyStats Latency, long ClientErrors, long ServerErrors, long RateLimited)
{
    public static EndpointFigures From(IReadOnlyList<EndpointStats> stats) => new(
        stats.Sum(s => s.Requests),
        Math.Round(stats.Sum(s => s.RequestsPerSecond), 2),
        LatencyHistogram.Latency(LatencyHistogram.Merge(stats.Select(s => s.Histogram))),
        stats.Sum(s => s.ClientErrors),
        stats.Sum(s => s.ServerErrors),
        stats.Sum(s => s.RateLimited));
}

public sealed record HistoryPoint(DateTimeOffset At, double RequestsPerSecond, double P99Ms);

public sealed record NodeError(string NodeId, string TraceId, string Route, int Status, DateTimeOffset At);
