using ChatGrains.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatGrains.Silo;

/// <summary>
/// Deletes the events older than <c>Events:Retention</c>. Every node sweeps, as
/// <see cref="SessionSweep"/> does: deleting what another node deleted deletes nothing.
/// </summary>
internal sealed partial class EventRetentionSweep(
    IEventLog events,
    StorageReadiness readiness,
    IOptions<EventsOptions> options,
    TimeProvider clock,
    ILogger<EventRetentionSweep> logger) : BackgroundService
{
    private const int BatchSize = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, clock);
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
                    batch = await events.DeleteOlderThanAsync(options.Value.Retention, BatchSize, stoppingToken);
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
                LogSweepFailed(logger, ex.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(LogLevel.Information, "Removed {Count} events past their retention")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(LogLevel.Warning, "Event retention sweep failed ({Error}); retrying at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, string error);
}
