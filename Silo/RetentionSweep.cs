using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatGrains.Silo;

/// <summary>
/// Deletes what outlived its retention, every <see cref="Interval"/>, in bounded batches (short
/// locks) until a batch comes back short. Every node sweeps: deleting what another node deleted
/// deletes nothing. A failed sweep only delays a removal: the next tick tries again.
/// </summary>
internal abstract partial class RetentionSweep(StorageReadiness readiness, TimeProvider clock, ILogger logger) : BackgroundService
{
    private const int BatchSize = 1000;

    protected abstract TimeSpan Interval { get; }

    /// <summary>What is deleted, for the log: "expired session records".</summary>
    protected abstract string What { get; }

    /// <summary>Deletes up to <paramref name="limit"/> of them; answers how many.</summary>
    protected abstract Task<int> DeleteBatchAsync(int limit, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
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
                    batch = await DeleteBatchAsync(BatchSize, stoppingToken);
                    removed += batch;
                }
                while (batch == BatchSize);
                if (removed > 0)
                {
                    LogSwept(logger, removed, What);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(logger, What, ex.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(LogLevel.Information, "Removed {Count} {What}")]
    private static partial void LogSwept(ILogger logger, int count, string what);

    [LoggerMessage(LogLevel.Warning, "Sweeping {What} failed ({Error}); retrying at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, string what, string error);
}
