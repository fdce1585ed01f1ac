using ClusterMember = ChatGrains.Silo.Membership.ClusterMember;
using ChatGrains.Silo.Membership;
using Npgsql;
using NpgsqlTypes;

namespace ChatGrains.Silo.Postgres;

internal sealed class PostgresMembershipStore(NpgsqlDataSource db) : IMembershipStore
{
    private static readonly (string Kind, string StateName)[] GrainStates =
        [(Grains.GrainCreations.Chats, Grains.GrainStorage.Chat), (Grains.GrainCreations.GuestSessions, Grains.GrainStorage.GuestSession), (Grains.GrainCreations.LiveChatSessions, Grains.GrainStorage.LiveChatSession)];

    public Task RegisterAsync(MemberRegistration member, CancellationToken cancellationToken) => RunAsync("""
        INSERT INTO cluster_members (node_id, host, url, version, started_at, heartbeat_at)
        VALUES ($1, $2, $3, $4, $5, now())
        ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = now(), left_at = NULL
        """, cancellationToken, member.NodeId, member.Host, member.Url, member.Version, member.StartedAt);

    public Task HeartbeatAsync(string nodeId, NodeStats stats, IReadOnlyDictionary<string, long> created, TimeSpan historyRetention, CancellationToken cancellationToken) => RunAsync("""
        WITH member AS (
            UPDATE cluster_members SET heartbeat_at = now(), stats = $2 WHERE node_id = $1
        ), history AS (
            INSERT INTO node_stats (node_id, at, stats) VALUES ($1, now(), $2)
        ), creations AS (
            INSERT INTO grain_creations (kind, bucket, created)
            SELECT kind, to_timestamp(floor(extract(epoch FROM now()) / 10) * 10), count
            FROM unnest($4::text[], $5::bigint[]) AS c(kind, count) WHERE count > 0
            ON CONFLICT (kind, bucket) DO UPDATE SET created = grain_creations.created + excluded.created
        ), expired AS (
            DELETE FROM grain_creations WHERE bucket < now() - interval '2 hours'
        )
        DELETE FROM node_stats WHERE node_id = $1 AND at < now() - $3
        """, cancellationToken, nodeId, new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Json, TypedValue = MembershipJson.Serialize(stats) }, historyRetention,
        created.Keys.ToArray(), created.Values.ToArray());

    public Task MarkLeftAsync(string nodeId, CancellationToken cancellationToken) =>
        RunAsync("UPDATE cluster_members SET left_at = now() WHERE node_id = $1", cancellationToken, nodeId);

    public async Task<IReadOnlyList<ClusterMember>> MembersAsync(TimeSpan deadAfter, CancellationToken cancellationToken)
    {
        var members = new List<ClusterMember>();
        await using var command = Command("""
            SELECT node_id, host, url, version, started_at, heartbeat_at, left_at, stats::text, heartbeat_at < now() - $1
            FROM cluster_members ORDER BY started_at, node_id
            """, deadAfter);
        await using var reader = await ExecuteAsync(command, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var leftAt = reader.IsDBNull(6) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(6);
            members.Add(new ClusterMember(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5), leftAt,
                leftAt is not null ? MemberStatus.Left : reader.GetBoolean(8) ? MemberStatus.Dead : MemberStatus.Alive,
                MembershipJson.Deserialize(reader.IsDBNull(7) ? null : reader.GetString(7))));
        }
        return members;
    }

    public async Task<IReadOnlyList<(string NodeId, NodeStats Stats)>> HistoryAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        var history = new List<(string, NodeStats)>();
        await using var command = Command("SELECT node_id, stats::text FROM node_stats WHERE at >= $1 ORDER BY at", since);
        await using var reader = await ExecuteAsync(command, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            history.Add((reader.GetString(0), MembershipJson.Deserialize(reader.GetString(1))!));
        }
        return history;
    }

    /// <summary>
    /// Totals are PostgreSQL's own estimate (exact counts scan whole tables); recent counts are
    /// the nodes' own tallies in <c>grain_creations</c>. A few rows either way, however busy.
    /// </summary>
    public async Task<IReadOnlyList<GrainCounts>> GrainCountsAsync(CancellationToken cancellationToken)
    {
        var recent = new Dictionary<string, (long Minute, long Hour)>(StringComparer.Ordinal);
        await using (var command = Command("""
            SELECT kind, coalesce(sum(created) FILTER (WHERE bucket >= now() - interval '1 minute'), 0)::bigint, sum(created)::bigint
            FROM grain_creations WHERE bucket >= now() - interval '1 hour' GROUP BY kind
            """))
        await using (var reader = await ExecuteAsync(command, cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                recent[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
            }
        }

        // Grain records of every kind share OrleansStorage: counted per kind (an index-only scan).
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        await using (var command = Command("SELECT graintypestring::text, count(*) FROM orleansstorage WHERE graintypestring = ANY($1) GROUP BY 1", (object)GrainStates.Select(t => t.StateName).ToArray()))
        await using (var reader = await ExecuteAsync(command, cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                totals[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        return
        [
            .. GrainStates.Select(t =>
            {
                var (minute, hour) = recent.GetValueOrDefault(t.Kind);
                return new GrainCounts(t.Kind, totals.GetValueOrDefault(t.StateName), false, minute, hour);
            }),
        ];
    }

    public async Task<int> OpenConnectionsAsync(string nodeId, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", nodeId);
        await using var reader = await ExecuteAsync(command, cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (int)reader.GetInt64(0);
    }

    private NpgsqlCommand Command(string sql, params object[] parameters)
    {
        var command = db.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(parameter as NpgsqlParameter ?? new NpgsqlParameter { Value = parameter });
        }
        return command;
    }

    private static async Task<NpgsqlDataReader> ExecuteAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        try
        {
            return await command.ExecuteReaderAsync(cancellationToken);
        }
        catch (Exception ex) when (PostgresStorage.IsUnavailable(ex))
        {
            throw PostgresStorage.Unavailable(ex);
        }
    }

    private async Task RunAsync(string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = Command(sql, parameters);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception ex) when (PostgresStorage.IsUnavailable(ex))
        {
            throw PostgresStorage.Unavailable(ex);
        }
    }
}
