using ChatGrains.Silo.Postgres;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace ChatGrains.Silo;

/// <summary>
/// A sliding-window decision: a request is admitted while fewer than <c>limit</c> requests were
/// admitted in the <c>window</c> before it, so no window of that length ever holds more.
/// </summary>
public readonly record struct RateLimitDecision(bool Admitted, int Limit, int Remaining, TimeSpan NextPermitIn)
{
    /// <param name="hits">The admitted requests' times as stored after this request (any order; old ones are ignored).</param>
    public static RateLimitDecision From(bool admitted, IEnumerable<DateTime> hits, DateTime now, int limit, TimeSpan window)
    {
        var counted = hits.Where(hit => hit > now - window).Order().ToList();
        var nextPermitIn = counted.Count == 0 ? TimeSpan.Zero : counted[0] + window - now;
        return new RateLimitDecision(admitted, limit, Math.Max(0, limit - counted.Count), nextPermitIn);
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
    private const int SweepThreshold = 100_000;
    private readonly Dictionary<string, Queue<DateTime>> _hits = new(StringComparer.Ordinal);

    public Task<RateLimitDecision> AcquireAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        lock (_hits)
        {
            if (_hits.Count > SweepThreshold)
            {
                Sweep(now - window);
            }
            if (!_hits.TryGetValue(key, out var hits))
            {
                _hits[key] = hits = new Queue<DateTime>();
            }
            while (hits.TryPeek(out var oldest) && oldest <= now - window)
            {
                hits.Dequeue();
            }
            var admitted = hits.Count < limit;
            if (admitted)
            {
                hits.Enqueue(now);
            }
            return Task.FromResult(RateLimitDecision.From(admitted, hits, now, limit, window));
        }
    }

    private void Sweep(DateTime expired)
    {
        foreach (var (key, hits) in _hits)
        {
            if (hits.Count == 0 || hits.Last() <= expired)
            {
                _hits.Remove(key);
            }
        }
    }
}

/// <summary>Cluster-wide limits: every node updates the same row, serialised by its row lock.</summary>
internal sealed class PostgresRateLimitStore(NpgsqlDataSource db, StorageReadiness readiness) : IRateLimitStore
{
    // One statement: append now() to the key's recent hits only while fewer than the limit are
    // within the window. PostgreSQL's clock is the cluster's clock, so nodes agree on time.
    private const string Acquire = """
        WITH admitted AS (
            INSERT INTO rate_limits AS r (key, hits) VALUES ($1, ARRAY[now()])
            ON CONFLICT (key) DO UPDATE
                SET hits = ARRAY(SELECT h FROM unnest(r.hits) AS h WHERE h > now() - $2 ORDER BY h) || now()
                WHERE (SELECT count(*) FROM unnest(r.hits) AS h WHERE h > now() - $2) < $3
            RETURNING hits
        )
        SELECT true, hits, now() FROM admitted
        UNION ALL
        SELECT false, hits, now() FROM rate_limits WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM admitted)
        """;

    public async Task<RateLimitDecision> AcquireAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken)
    {
        readiness.EnsureReady();
        try
        {
            await using var command = db.CreateCommand(Acquire);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { NpgsqlDbType = NpgsqlDbType.Interval, TypedValue = window });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = limit });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                // Refused by a row this statement's snapshot cannot see yet: a concurrent first
                // request filled the window. Say the whole window, the most it can be.
                return new RateLimitDecision(false, limit, 0, window);
            }
            return RateLimitDecision.From(reader.GetBoolean(0), reader.GetFieldValue<DateTime[]>(1), reader.GetFieldValue<DateTime>(2), limit, window);
        }
        catch (Exception ex) when (PostgresStorage.IsUnavailable(ex))
        {
            throw PostgresStorage.Unavailable(ex);
        }
    }
}

/// <summary>Deletes rate limit rows whose every hit has left the longest window: they mean the same as no row.</summary>
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
                await using var command = db.CreateCommand("DELETE FROM rate_limits WHERE hits[array_upper(hits, 1)] < now() - $1");
                command.Parameters.Add(new NpgsqlParameter<TimeSpan> { NpgsqlDbType = NpgsqlDbType.Interval, TypedValue = Period });
                await command.ExecuteNonQueryAsync(stoppingToken);
            }
            catch (Exception ex) when (PostgresStorage.IsUnavailable(ex))
            {
                LogSkipped(logger, ex.Message);
            }
        }
    }

    [LoggerMessage(LogLevel.Debug, "Rate limit clean-up skipped: {Error}")]
    private static partial void LogSkipped(ILogger logger, string error);
}
