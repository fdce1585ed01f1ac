using System.Collections.Concurrent;
using ChatGrains.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace ChatGrains.Silo;

/// <summary>
/// A rate limit decision. The algorithm is GCRA (a token bucket kept as one timestamp, the
/// "theoretical arrival time"): up to <c>limit</c> requests at once, refilled one every
/// <c>window / limit</c>, so never more than <c>limit</c> within any <c>window</c> after a burst.
/// </summary>
public readonly record struct RateLimitDecision(bool Admitted, int Limit, int Remaining, TimeSpan ResetAfter, TimeSpan RetryAfter)
{
    /// <param name="ahead">How far the key's theoretical arrival time is ahead of now, after this request.</param>
    public static RateLimitDecision From(bool admitted, TimeSpan ahead, int limit, TimeSpan window)
    {
        var interval = window / limit;
        ahead = ahead < TimeSpan.Zero ? TimeSpan.Zero : ahead;
        var remaining = (int)Math.Clamp(Math.Floor((window - ahead) / interval), 0, limit);
        var retryAfter = admitted ? TimeSpan.Zero : ahead + interval - window;
        return new RateLimitDecision(admitted, limit, remaining, ahead, retryAfter < TimeSpan.Zero ? interval : retryAfter);
    }
}

/// <summary>Where rate limit state lives: the shared database on a cluster, memory on a single node.</summary>
public interface IRateLimitStore
{
    Task<RateLimitDecision> AcquireAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken);
}

/// <summary>A single node's limits, in process (SQLite means one node).</summary>
internal sealed class InMemoryRateLimitStore(TimeProvider clock) : IRateLimitStore
{
    private readonly ConcurrentDictionary<string, StrongBox<DateTimeOffset>> _arrivals = new(StringComparer.Ordinal);

    public Task<RateLimitDecision> AcquireAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken)
    {
        var interval = window / limit;
        var box = _arrivals.GetOrAdd(key, _ => new StrongBox<DateTimeOffset>(DateTimeOffset.MinValue));
        lock (box)
        {
            var now = clock.GetUtcNow();
            var next = (box.Value > now ? box.Value : now) + interval;
            var admitted = next - now <= window;
            if (admitted)
            {
                box.Value = next;
            }
            if (_arrivals.Count > 100_000)
            {
                Sweep(now);
            }
            return Task.FromResult(RateLimitDecision.From(admitted, box.Value - now, limit, window));
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, box) in _arrivals)
        {
            if (box.Value < now)
            {
                _arrivals.TryRemove(key, out _);
            }
        }
    }

    private sealed class StrongBox<T>(T value)
    {
        public T Value = value;
    }
}

/// <summary>Cluster-wide limits: every node updates the same row, serialised by its row lock.</summary>
internal sealed class PostgresRateLimitStore(NpgsqlDataSource db, StorageReadiness readiness) : IRateLimitStore
{
    // One statement: admit (and advance the arrival time) only while it stays within the window.
    // PostgreSQL's clock is the cluster's clock, so nodes with skewed clocks still agree.
    private const string Acquire = """
        WITH admitted AS (
            INSERT INTO rate_limits AS r (key, tat) VALUES ($1, now() + $2)
            ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, now()) + $2
                WHERE GREATEST(r.tat, now()) + $2 <= now() + $3
            RETURNING tat
        )
        SELECT true, EXTRACT(EPOCH FROM tat - now())::float8 FROM admitted
        UNION ALL
        SELECT false, EXTRACT(EPOCH FROM tat - now())::float8 FROM rate_limits
        WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM admitted)
        """;

    public async Task<RateLimitDecision> AcquireAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken)
    {
        readiness.EnsureReady();
        try
        {
            await using var command = db.CreateCommand(Acquire);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { NpgsqlDbType = NpgsqlDbType.Interval, TypedValue = window / limit });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { NpgsqlDbType = NpgsqlDbType.Interval, TypedValue = window });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? RateLimitDecision.From(reader.GetBoolean(0), TimeSpan.FromSeconds(reader.GetDouble(1)), limit, window)
                // Refused by a row this statement's snapshot cannot see yet: a concurrent first request.
                : RateLimitDecision.From(false, window, limit, window);
        }
        catch (Exception ex) when (Postgres.PostgresStorage.IsUnavailable(ex))
        {
            throw Postgres.PostgresStorage.Unavailable(ex);
        }
    }
}

/// <summary>Deletes rate limit rows whose arrival time has passed: they mean the same as no row.</summary>
internal sealed partial class RateLimitJanitor(NpgsqlDataSource db, StorageReadiness readiness, ILogger<RateLimitJanitor> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!readiness.IsReady)
            {
                continue;
            }
            try
            {
                await using var command = db.CreateCommand("DELETE FROM rate_limits WHERE tat < now()");
                await command.ExecuteNonQueryAsync(stoppingToken);
            }
            catch (Exception ex) when (Postgres.PostgresStorage.IsUnavailable(ex))
            {
                LogSkipped(logger, ex.Message);
            }
        }
    }

    [LoggerMessage(LogLevel.Debug, "Rate limit clean-up skipped: {Error}")]
    private static partial void LogSkipped(ILogger logger, string error);
}
