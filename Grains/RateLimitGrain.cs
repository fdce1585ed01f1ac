using Orleans.Placement;

namespace ChatGrains.Grains;

/// <summary>
/// Counts admitted requests per second of the window in a ring of buckets: bounded memory
/// whatever the limit, and the window slides in one-second steps. Nothing is persisted: when
/// the grain's silo dies the count restarts at zero, which forgives at most one window.
/// Collected only after the window has passed, so deactivation never forgives a counted request.
/// Placed on the node that first asks (a balancer that keeps a client on one node then makes every
/// decision a local call); a caller that gets no answer admits (<see cref="RateLimiterCalls"/>).
/// </summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed class RateLimitGrain(TimeProvider clock) : Grain, IRateLimitGrain
{
    private int[] _buckets = [];
    private long _lastSecond;

    public Task<RateLimitDecision> Acquire(int limit, TimeSpan window) => Task.FromResult(Decide(limit, window, count: true));

    public Task<RateLimitDecision> Peek(int limit, TimeSpan window) => Task.FromResult(Decide(limit, window, count: false));

    private RateLimitDecision Decide(int limit, TimeSpan window, bool count)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(window.TotalSeconds));
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        if (_buckets.Length != seconds || now - _lastSecond >= seconds)
        {
            _buckets = new int[seconds];
        }
        else
        {
            // Empty the buckets of the seconds that left the window since the last request.
            for (var second = _lastSecond + 1; second <= now; second++)
            {
                _buckets[second % seconds] = 0;
            }
        }
        _lastSecond = Math.Max(_lastSecond, now);

        var total = _buckets.Sum();
        var admitted = total < limit;
        if (admitted && count)
        {
            _buckets[now % seconds]++;
            total++;
        }
        return new RateLimitDecision(admitted, limit, Math.Max(limit - total, 0), TimeSpan.FromSeconds(NextPermitIn(now, seconds)));
    }

    /// <summary>Seconds until the oldest counted second leaves the window (at least one).</summary>
    private int NextPermitIn(long now, int seconds)
    {
        for (var second = now - seconds + 1; second <= now; second++)
        {
            if (_buckets[second % seconds] > 0)
            {
                return (int)Math.Max(second + seconds - now, 1);
            }
        }
        return 1;
    }
}
