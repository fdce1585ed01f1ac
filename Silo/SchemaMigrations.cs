using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace ChatGrains.Silo;

/// <summary>
/// Migrates the schema as the silo's first start step, before the membership and storage
/// providers need their tables. While the database is unreachable it retries, so a node started
/// before its database joins the cluster by itself once the database answers.
/// </summary>
internal sealed partial class SchemaMigrations(
    IStorageProvider storage,
    StorageReadiness readiness,
    SiloIdentity identity,
    ILogger<SchemaMigrations> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SchemaMigrations), ServiceLifecycleStage.First, MigrateAsync);

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        var migrations = Migration.For(storage.Name);
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                var applied = await storage.MigrateAsync(migrations, identity.NodeId, cancellationToken);
                LogMigrated(logger, applied.Count, migrations.Count);
                readiness.MarkReady();
                return;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogRetrying(logger, ex.Message, delay);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
            }
        }
    }

    [LoggerMessage(LogLevel.Information, "Schema ready: applied {Applied} of {Known} migrations")]
    private static partial void LogMigrated(ILogger logger, int applied, int known);

    [LoggerMessage(LogLevel.Warning, "Schema migration failed ({Error}); retrying in {Delay}")]
    private static partial void LogRetrying(ILogger logger, string error, TimeSpan delay);
}
