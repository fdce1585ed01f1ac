using ClusterMember = ChatGrains.Silo.Membership.ClusterMember;
using System.Globalization;
using ChatGrains.Grains;
using ChatGrains.Silo.Membership;
using Microsoft.Data.Sqlite;

namespace ChatGrains.Silo.Sqlite;

/// <summary>A single node's membership: it lists only itself, but through the same dashboard.</summary>
internal sealed class SqliteMembershipStore(SqliteStorage db, TimeProvider clock) : IMembershipStore
{
    private static readonly (string Kind, string StateName)[] GrainStates =
        [(GrainCreations.Chats, GrainStorage.Chat), (GrainCreations.GuestSessions, GrainStorage.GuestSession), (GrainCreations.LiveChatSessions, GrainStorage.LiveChatSession)];

    private string Now => Text(clock.GetUtcNow());

    public Task RegisterAsync(MemberRegistration member, CancellationToken cancellationToken) => RunAsync("""
        INSERT INTO cluster_members (node_id, host, url, version, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = $6, left_at = NULL
        """, cancellationToken, member.NodeId, member.Host, member.Url, member.Version, Text(member.StartedAt), Now);

    public async Task HeartbeatAsync(string nodeId, NodeStats stats, IReadOnlyDictionary<string, long> created, TimeSpan historyRetention, CancellationToken cancellationToken)
    {
        var json = MembershipJson.Serialize(stats);
        var now = clock.GetUtcNow();
        var bucket = Text(DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() / 10 * 10));
        await RunAsync("""
            UPDATE cluster_members SET heartbeat_at = $2, stats = $3 WHERE node_id = $1;
            INSERT OR REPLACE INTO node_stats (node_id, at, stats) VALUES ($1, $2, $3);
            DELETE FROM node_stats WHERE node_id = $1 AND at < $4;
            INSERT INTO grain_creations (kind, bucket, created) VALUES ($5, $8, $9), ($6, $8, $10), ($7, $8, $11)
                ON CONFLICT (kind, bucket) DO UPDATE SET created = created + excluded.created;
            DELETE FROM grain_creations WHERE bucket < $12;
            """, cancellationToken, nodeId, Text(now), json, Text(now - historyRetention),
            GrainCreations.Chats, GrainCreations.GuestSessions, GrainCreations.LiveChatSessions, bucket,
            created.GetValueOrDefault(GrainCreations.Chats), created.GetValueOrDefault(GrainCreations.GuestSessions),
            created.GetValueOrDefault(GrainCreations.LiveChatSessions), Text(now.AddHours(-2)));
    }

    public Task MarkLeftAsync(string nodeId, CancellationToken cancellationToken) =>
        RunAsync("UPDATE cluster_members SET left_at = $2 WHERE node_id = $1", cancellationToken, nodeId, Now);

    public async Task<IReadOnlyList<ClusterMember>> MembersAsync(TimeSpan deadAfter, CancellationToken cancellationToken)
    {
        var members = new List<ClusterMember>();
        var deadline = clock.GetUtcNow() - deadAfter;
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT node_id, host, url, version, started_at, heartbeat_at, left_at, stats FROM cluster_members ORDER BY started_at, node_id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var heartbeat = Parse(reader.GetString(5));
            var leftAt = reader.IsDBNull(6) ? (DateTimeOffset?)null : Parse(reader.GetString(6));
            members.Add(new ClusterMember(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), Parse(reader.GetString(4)), heartbeat, leftAt,
                leftAt is not null ? MemberStatus.Left : heartbeat < deadline ? MemberStatus.Dead : MemberStatus.Alive,
                MembershipJson.Deserialize(reader.IsDBNull(7) ? null : reader.GetString(7))));
        }
        return members;
    }

    public async Task<IReadOnlyList<(string NodeId, NodeStats Stats)>> HistoryAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var history = new List<(string, NodeStats)>();
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT node_id, stats FROM node_stats WHERE at >= $1 ORDER BY at", Text(since));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            history.Add((reader.GetString(0), MembershipJson.Deserialize(reader.GetString(1))!));
        }
        return history;
    }

    public async Task<IReadOnlyList<GrainCounts>> GrainCountsAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var counts = new List<GrainCounts>();
        await using var connection = await db.OpenAsync(cancellationToken);
        foreach (var (kind, stateName) in GrainStates)
        {
            await using var command = Command(connection, """
                SELECT (SELECT count(*) FROM OrleansStorage WHERE GrainTypeString = $4),
                       (SELECT coalesce(sum(created), 0) FROM grain_creations WHERE kind = $3 AND bucket >= $1),
                       (SELECT coalesce(sum(created), 0) FROM grain_creations WHERE kind = $3 AND bucket >= $2)
                """, Text(now.AddMinutes(-1)), Text(now.AddHours(-1)), kind, stateName);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            counts.Add(new GrainCounts(kind, reader.GetInt64(0), false, reader.GetInt64(1), reader.GetInt64(2)));
        }
        return counts;
    }

    public Task<int> OpenConnectionsAsync(string nodeId, CancellationToken cancellationToken) => Task.FromResult(0);

    private static string Text(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static SqliteCommand Command(SqliteConnection connection, string sql, params object[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < parameters.Length; i++)
        {
            command.Parameters.AddWithValue($"${i + 1}", parameters[i]);
        }
        return command;
    }

    private async Task RunAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var connection = await db.OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
