using ChatGrains.Silo.Postgres;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

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

/// <summary>
/// Cluster-wide limits: every node calls <c>rate_limit_acquire</c> (migration 0002) on the same
/// row, serialised by its row lock, timed by PostgreSQL's clock. Counted per second, so the
/// window slides in one-second steps.
/// </summary>
internal sealed class PostgresRateLimitStore(NpgsqlDataSource db, StorageReadiness readiness) : IRateLimitStore
{
    public async Task<RateLimitDecision> AcquireAsync(string key, int limit, TimeSpan window, CancellationToken cancellationToken)
    {
        readiness.EnsureReady();
        try
        {
            await using var command = db.CreateCommand("SELECT admitted, remaining, retry_after FROM rate_limit_acquire($1, $2, $3)");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)window.TotalSeconds });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new RateLimitDecision(reader.GetBoolean(0), limit, reader.GetInt32(1), TimeSpan.FromSeconds(reader.GetInt32(2)));
        }
        catch (Exception ex) when (PostgresStorage.IsUnavailable(ex))
        {
            throw PostgresStorage.Unavailable(ex);
        }
    }
}

/// <summary>Deletes rate limit rows whose every count has left the (one-minute) window: they mean the same as no row.</summary>
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
                await using var command = db.CreateCommand("DELETE FROM rate_limits WHERE last_second < extract(epoch FROM now()) - $1");
                command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)Period.TotalSeconds });
                await command.ExecuteNonQueryAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Clean-up is optional work: a failure waits for the next period, never stops the node.
                LogSkipped(logger, ex.Message);
            }
        }
    }

    [LoggerMessage(LogLevel.Debug, "Rate limit clean-up skipped: {Error}")]
    private static partial void LogSkipped(ILogger logger, string error);
}
