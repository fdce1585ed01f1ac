using ChatGrains.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace ChatGrains.Silo;

/// <summary>
/// Deletes the records of sessions unused for <c>Sessions:Retention</c> that no call reopens (a
/// reopened one is removed by its grain). Every node sweeps: deleting what another node deleted
/// deletes nothing, and bounded batches keep each statement's locks short.
/// </summary>
internal sealed partial class SessionSweep(
    IStorageProvider storage,
    StorageReadiness readiness,
    IOptions<SessionOptions> sessions,
    IOptions<ClusterOptions> cluster,
    TimeProvider clock,
    ILogger<SessionSweep> logger) : BackgroundService
{
    private const int BatchSize = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(sessions.Value.SweepInterval, clock);
        do
        {
            if (!readiness.IsReady)
            {
                continue;
            }
            try
            {
                var removed = 0;
                int batch;
                do
                {
                    batch = await storage.DeleteRecordsOlderThanAsync(
                        cluster.Value.ServiceId, SessionOptions.StateNames, sessions.Value.Retention, BatchSize, stoppingToken);
                    removed += batch;
                }
                while (batch == BatchSize);
                if (removed > 0)
                {
                    LogSwept(logger, removed);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The next tick tries again; a failed sweep only delays a removal.
                LogSweepFailed(logger, ex.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(LogLevel.Information, "Removed {Count} expired session records")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(LogLevel.Warning, "Session sweep failed ({Error}); retrying at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, string error);
}
