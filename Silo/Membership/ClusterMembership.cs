using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace ChatGrains.Silo.Membership;

public static class NodeDashboardMembership
{
    /// <summary>
    /// The node dashboard's heartbeats and stats snapshots in <c>cluster_members</c>: what the
    /// dashboard page shows. The cluster's membership itself is Orleans' (its membership table).
    /// </summary>
    public static IServiceCollection AddNodeDashboardMembership(this IServiceCollection services)
    {
        services.AddOptions<MembershipOptions>()
            .BindConfiguration(MembershipOptions.Section)
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero && o.DeadAfter > o.HeartbeatInterval,
                "Cluster:HeartbeatInterval must be positive and Cluster:DeadAfter longer than it.")
            .ValidateOnStart();
        services.AddHostedService<MembershipService>();
        return services;
    }
}

/// <summary><c>Cluster:*</c> configuration.</summary>
public sealed class MembershipOptions
{
    public const string Section = "Cluster";

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A member whose last heartbeat is older than this is shown dead (it crashed, or cannot reach the database).</summary>
    public TimeSpan DeadAfter { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long each node's stats history is kept for the dashboard's charts.</summary>
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromMinutes(10);
}

public enum MemberStatus { Alive, Left, Dead }

/// <summary>A row of <c>cluster_members</c>, as read back (status derived from the heartbeat's age).</summary>
public sealed record ClusterMember(
    string NodeId,
    string Host,
    string Url,
    string Version,
    DateTimeOffset StartedAt,
    DateTimeOffset HeartbeatAt,
    DateTimeOffset? LeftAt,
    MemberStatus Status,
    NodeStats? Stats);

/// <summary>A node's registration, as it writes it.</summary>
public sealed record MemberRegistration(string NodeId, string Host, string Url, string Version, DateTimeOffset StartedAt);

/// <summary>Counts of each kind of grain, for the dashboard.</summary>
public sealed record GrainCounts(string Kind, long Total, bool TotalIsEstimate, long LastMinute, long LastHour);

/// <summary>The membership table and the stats history, per storage provider.</summary>
public interface IMembershipStore
{
    Task RegisterAsync(MemberRegistration member, CancellationToken cancellationToken);

    /// <summary>Records the snapshot, and adds the grains this node created since its last heartbeat to the cluster's counts.</summary>
    Task HeartbeatAsync(string nodeId, NodeStats stats, IReadOnlyDictionary<string, long> created, TimeSpan historyRetention, CancellationToken cancellationToken);

    Task MarkLeftAsync(string nodeId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ClusterMember>> MembersAsync(TimeSpan deadAfter, CancellationToken cancellationToken);

    /// <summary>Each node's snapshots since <paramref name="since"/>, oldest first.</summary>
    Task<IReadOnlyList<(string NodeId, NodeStats Stats)>> HistoryAsync(DateTimeOffset since, CancellationToken cancellationToken);

    Task<IReadOnlyList<GrainCounts>> GrainCountsAsync(CancellationToken cancellationToken);

    /// <summary>Connections this node holds open to the database (0 where that has no meaning).</summary>
    Task<int> OpenConnectionsAsync(string nodeId, CancellationToken cancellationToken);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NodeStats))]
internal sealed partial class MembershipJson : JsonSerializerContext
{
    public static string Serialize(NodeStats stats) => JsonSerializer.Serialize(stats, Default.NodeStats);

    public static NodeStats? Deserialize(string? json) => json is null ? null : JsonSerializer.Deserialize(json, Default.NodeStats);
}
