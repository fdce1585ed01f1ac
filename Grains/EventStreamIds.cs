using System.Globalization;

namespace ChatGrains.Grains;

/// <summary>The stream a grain's events go to: its kind's namespace, the partition of its id.</summary>
public static class EventStreamIds
{
    /// <summary>For a Guid-keyed grain (Guid hash codes are the same on every node).</summary>
    public static StreamId For(string @namespace, Guid grainId) =>
        Partition(@namespace, (uint)grainId.GetHashCode());

    /// <summary>For a string-keyed grain (FNV-1a over the key: stable across nodes and runs, unlike string hash codes).</summary>
    public static StreamId For(string @namespace, string grainId)
    {
        var hash = 2166136261u;
        foreach (var c in grainId)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return Partition(@namespace, hash);
    }

    private static StreamId Partition(string @namespace, uint hash) =>
        StreamId.Create(@namespace, (hash % EventStreams.Partitions).ToString(CultureInfo.InvariantCulture));
}
