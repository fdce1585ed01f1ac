using System.Reflection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatGrains.Silo.Membership;

/// <summary>
/// Registers this node in <c>cluster_members</c> once the schema is ready, heartbeats with a
/// stats snapshot every <see cref="MembershipOptions.HeartbeatInterval"/>, and marks itself
/// <c>left</c> on graceful shutdown. A node that stops heartbeating (crash, lost database) is
/// shown dead by the readers; no node decides another's fate.
/// </summary>
internal sealed partial class MembershipService(
    IMembershipStore store,
    INodeStatsSource stats,
    Grains.GrainCreations creations,
    StorageReadiness readiness,
    SiloIdentity identity,
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<MembershipOptions> options,
    TimeProvider clock,
    ILogger<MembershipService> logger) : BackgroundService
{
    private static readonly string Version =
        typeof(MembershipService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private bool _registered;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The URL is known once Kestrel listens; the schema once migrations ran.
        await WaitForAsync(lifetime.ApplicationStarted, stoppingToken);
        var registration = new MemberRegistration(identity.NodeId, Environment.MachineName, ListeningUrl(), Version, clock.GetUtcNow());
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, clock);
        do
        {
            if (!readiness.IsReady)
            {
                continue;
            }
            try
            {
                if (!_registered)
                {
                    await store.RegisterAsync(registration, stoppingToken);
                    _registered = true;
                    LogRegistered(logger, identity.NodeId, registration.Url);
                }
                var connections = await store.OpenConnectionsAsync(identity.NodeId, stoppingToken);
                await store.HeartbeatAsync(identity.NodeId, stats.TakeSnapshot(connections), creations.Take(), options.Value.HistoryRetention, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // A failed heartbeat must never stop the node: it is retried on the next tick,
                // and meanwhile the others see this node's heartbeat age.
                LogHeartbeatFailed(logger, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!_registered)
        {
            return;
        }
        try
        {
            await store.MarkLeftAsync(identity.NodeId, cancellationToken);
            LogLeft(logger, identity.NodeId);
        }
        catch (Exception ex) when (ex is Grains.StorageUnavailableException or OperationCanceledException)
        {
            LogHeartbeatFailed(logger, ex.Message);
        }
    }

    private string ListeningUrl() =>
        server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "unknown";

    private static Task WaitForAsync(CancellationToken started, CancellationToken stopping)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        started.Register(() => done.TrySetResult());
        stopping.Register(() => done.TrySetCanceled(stopping));
        return done.Task;
    }

    [LoggerMessage(LogLevel.Information, "Node {NodeId} joined the cluster at {Url}")]
    private static partial void LogRegistered(ILogger logger, string nodeId, string url);

    [LoggerMessage(LogLevel.Information, "Node {NodeId} left the cluster")]
    private static partial void LogLeft(ILogger logger, string nodeId);

    [LoggerMessage(LogLevel.Warning, "Heartbeat failed: {Error}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string error);
}
