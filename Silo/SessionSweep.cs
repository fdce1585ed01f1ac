using ChatGrains.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace ChatGrains.Silo;

/// <summary>
/// Deletes the records of sessions unused for <c>Sessions:Retention</c> that no call reopens (a
/// reopened one is removed by its grain).
/// </summary>
internal sealed class SessionSweep(
    IStorageProvider storage,
    StorageReadiness readiness,
    IOptions<SessionOptions> sessions,
    IOptions<ClusterOptions> cluster,
    TimeProvider clock,
    ILogger<SessionSweep> logger) : RetentionSweep(readiness, clock, logger)
{
    protected override TimeSpan Interval => sessions.Value.SweepInterval;

    protected override string What => "expired session records";

    protected override Task<int> DeleteBatchAsync(int limit, CancellationToken cancellationToken) =>
        storage.DeleteRecordsOlderThanAsync(cluster.Value.ServiceId, SessionOptions.StateNames, sessions.Value.Retention, limit, cancellationToken);
}
