using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatGrains.Silo;

/// <summary>
/// Migrates the schema in the background, retrying while the database is unreachable, so a node
/// started before its database still comes up (and answers 503) and becomes ready by itself.
/// </summary>
internal sealed partial class SchemaMigrationService(
    IStorageProvider storage,
    StorageReadiness readiness,
    SiloIdentity identity,
    ILogger<SchemaMigrationService> logger) : BackgroundService
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var migrations = Migration.For(storage.Name);
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var applied = await storage.MigrateAsync(migrations, identity.NodeId, stoppingToken);
                LogMigrated(logger, applied.Count, migrations.Count);
                readiness.MarkReady();
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogRetrying(logger, ex.Message, delay);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            }
        }
    }

    [LoggerMessage(LogLevel.Information, "Schema ready: applied {Applied} of {Known} migrations")]
    private static partial void LogMigrated(ILogger logger, int applied, int known);

    [LoggerMessage(LogLevel.Warning, "Schema migration failed ({Error}); retrying in {Delay}")]
    private static partial void LogRetrying(ILogger logger, string error, TimeSpan delay);
}
