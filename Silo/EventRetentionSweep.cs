using ChatGrains.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatGrains.Silo;

/// <summary>Deletes the events older than <c>Events:Retention</c>.</summary>
internal sealed class EventRetentionSweep(
    IEventLog events,
    StorageReadiness readiness,
    IOptions<EventsOptions> options,
    TimeProvider clock,
    ILogger<EventRetentionSweep> logger) : RetentionSweep(readiness, clock, logger)
{
    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override string What => "events past their retention";

    protected override Task<int> DeleteBatchAsync(int limit, CancellationToken cancellationToken) =>
        events.DeleteOlderThanAsync(options.Value.Retention, limit, cancellationToken);
}
