namespace ChatGrains.Silo.Membership;

/// <summary>What a node reports with each heartbeat, about the interval since the previous one.</summary>
public sealed record NodeStats(
    DateTimeOffset At,
    double IntervalSeconds,
    double RequestsPerSecond,
    LatencyStats Latency,
    long ClientErrors,
    long ServerErrors,
    long RateLimited,
    double CpuPercent,
    double WorkingSetMb,
    double GcHeapMb,
    long ThreadPoolQueue,
    int DatabaseConnections,
    IReadOnlyDictionary<string, EndpointStats> Endpoints,
    IReadOnlyList<RecentError> Errors);

public sealed record LatencyStats(double P50Ms, double P95Ms, double P99Ms);

/// <summary>
/// One route's traffic in the interval: count, latency, outcomes, and the latency histogram
/// (counts per <see cref="LatencyHistogram.BoundsMs"/> bucket) so nodes' figures can be merged exactly.
/// </summary>
public sealed record EndpointStats(
    long Requests,
    double RequestsPerSecond,
    LatencyStats Latency,
    long ClientErrors,
    long ServerErrors,
    long RateLimited,
    IReadOnlyList<long> Histogram);

/// <summary>Fixed latency buckets shared by every node, so histograms add up across the cluster.</summary>
public static class LatencyHistogram
{
    /// <summary>Upper bounds in milliseconds; the last bucket is everything slower.</summary>
    public static readonly double[] BoundsMs =
        [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000, double.PositiveInfinity];

    public static int BucketOf(double milliseconds)
    {
        var index = Array.BinarySearch(BoundsMs, milliseconds);
        return index >= 0 ? index : ~index;
    }

    /// <summary>The latency under which a fraction of requests fell (the bucket's upper bound, capped at the largest finite one).</summary>
    public static double Percentile(IReadOnlyList<long> histogram, double fraction)
    {
        var total = histogram.Sum();
        if (total == 0)
        {
            return 0;
        }
        var rank = Math.Ceiling(total * fraction);
        long seen = 0;
        for (var i = 0; i < histogram.Count; i++)
        {
            seen += histogram[i];
            if (seen >= rank)
            {
                return double.IsPositiveInfinity(BoundsMs[i]) ? BoundsMs[^2] : BoundsMs[i];
            }
        }
        return BoundsMs[^2];
    }

    public static LatencyStats Latency(IReadOnlyList<long> histogram) =>
        new(Percentile(histogram, 0.50), Percentile(histogram, 0.95), Percentile(histogram, 0.99));

    public static long[] Merge(IEnumerable<IReadOnlyList<long>> histograms)
    {
        var merged = new long[BoundsMs.Length];
        foreach (var histogram in histograms)
        {
            for (var i = 0; i < Math.Min(merged.Length, histogram.Count); i++)
            {
                merged[i] += histogram[i];
            }
        }
        return merged;
    }
}

/// <summary>A response with status ≥ 500: enough to find it in the logs, nothing of the request.</summary>
public sealed record RecentError(string TraceId, string Route, int Status, DateTimeOffset At);

/// <summary>Where the membership service gets a node's numbers (the HTTP edge measures them).</summary>
public interface INodeStatsSource
{
    /// <summary>Returns the numbers since the last call and starts a new interval.</summary>
    NodeStats TakeSnapshot(int databaseConnections);
}
