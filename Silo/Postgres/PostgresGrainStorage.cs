using System.Globalization;
using System.Text;
using ChatGrains.Grains;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace ChatGrains.Silo.Postgres;

/// <summary>
/// Grain storage on PostgreSQL, row for row what <c>AdoNetGrainStorage</c> keeps (the same
/// <c>orleansstorage</c> table, keys, hashes, versions and payloads, so either provider reads what
/// the other wrote), made for a node that creates grains by the thousand a second: the reads and
/// writes of concurrent activations are coalesced into one round trip and one commit
/// (<see cref="StatementBatcher"/>), as plain prepared statements (Npgsql's auto-prepare), with
/// no PL/pgSQL function and no SQL text parsed per call. A first write is an
/// <c>INSERT … ON CONFLICT DO NOTHING</c>: losing a race to another activation is answered with
/// <see cref="InconsistentStateException"/>, as the ADO.NET provider answers it. The events a
/// record carries are written by its own statement (<see cref="WithEvents"/>), not by the trigger.
/// </summary>
internal sealed class PostgresGrainStorage : IGrainStorage
{
    private const string RowKey = """
        grainidhash = $1 AND graintypehash = $2 AND grainidn0 = $3 AND grainidn1 = $4
        AND graintypestring = $5 AND grainidextensionstring IS NOT DISTINCT FROM $6 AND serviceid = $7
        """;

    private const string ReadSql = $"SELECT payloadbinary, version FROM orleansstorage WHERE {RowKey}";

    private const string InsertSql = """
        INSERT INTO orleansstorage (grainidhash, graintypehash, grainidn0, grainidn1, graintypestring,
            grainidextensionstring, serviceid, payloadbinary, modifiedon, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() AT TIME ZONE 'utc', 1)
        ON CONFLICT DO NOTHING
        RETURNING version
        """;

    private const string UpdateSql = $"""
        UPDATE orleansstorage SET payloadbinary = $8, modifiedon = now() AT TIME ZONE 'utc', version = version + 1
        WHERE {RowKey} AND version = $9
        RETURNING version
        """;

    private const string ClearSql = $"""
        UPDATE orleansstorage SET payloadbinary = NULL, version = version + 1
        WHERE {RowKey} AND version = $8
        RETURNING version
        """;

    private static readonly string InsertWithEventsSql = WithEvents(InsertSql, firstParameter: 9);

    private static readonly string UpdateWithEventsSql = WithEvents(UpdateSql, firstParameter: 10);

    private static readonly string InsertNewChatSql = WithEvents(InsertSql, firstParameter: 9, newChat: true);

    private static readonly string UpdateNewChatSql = WithEvents(UpdateSql, firstParameter: 10, newChat: true);

    private static readonly OrleansDefaultHasher Hasher = new();

    private readonly string _name;
    private readonly string _serviceId;
    private readonly IGrainStorageSerializer _serializer;
    private readonly IActivatorProvider _activators;
    private readonly StatementBatcher _reads;
    private readonly StatementBatcher _writes;

    public PostgresGrainStorage(string name, PostgresBatches batches, ClusterOptions cluster, IGrainStorageSerializer serializer, IActivatorProvider activators)
    {
        _name = name;
        _serviceId = cluster.ServiceId;
        _serializer = serializer;
        _activators = activators;
        _reads = batches.Reads;
        _writes = batches.Writes;
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var statement = new RowStatement(ReadSql, RowOf(stateName, grainId));
        await _reads.RunAsync(statement);
        var payload = statement.Payload;
        grainState.State = payload is null ? NewState<T>() : _serializer.Deserialize<T>(new BinaryData(payload)) ?? NewState<T>();
        grainState.ETag = statement.Version?.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = payload is not null;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        IReadOnlyList<RecordedEvent> events = grainState.State is RecordWithEvents record ? record.TakeEvents() : [];
        var newChat = grainState.State is ChatRecord chat ? chat.TakeNewChatRows() : null;
        var payload = _serializer.Serialize(grainState.State).ToArray();
        var row = RowOf(stateName, grainId);
        var statement = grainState.ETag is { } etag
            ? new RowStatement(WriteSql(update: true, events, newChat), row, payload, Version(etag), events, newChat)
            : new RowStatement(WriteSql(update: false, events, newChat), row, payload, events: events, newChat: newChat);
        await _writes.RunAsync(statement);
        grainState.ETag = NewVersion(statement, "WriteState", stateName, grainId, grainState.ETag);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (grainState.ETag is null)
        {
            // Never read as stored: find out whether there is a record to clear.
            await ReadStateAsync(stateName, grainId, grainState);
            if (grainState.ETag is null)
            {
                grainState.State = NewState<T>();
                return;
            }
        }
        var statement = new RowStatement(ClearSql, RowOf(stateName, grainId), version: Version(grainState.ETag));
        await _writes.RunAsync(statement);
        grainState.ETag = NewVersion(statement, "ClearState", stateName, grainId, grainState.ETag);
        grainState.RecordExists = false;
        grainState.State = NewState<T>();
    }

    private static string WriteSql(bool update, IReadOnlyList<RecordedEvent> events, NewChatRows? newChat) => (update, newChat is not null, events.Count > 0) switch
    {
        (true, true, _) => UpdateNewChatSql,
        (true, false, true) => UpdateWithEventsSql,
        (true, false, false) => UpdateSql,
        (false, true, _) => InsertNewChatSql,
        (false, false, true) => InsertWithEventsSql,
        (false, false, false) => InsertSql,
    };

    /// <summary>
    /// The write, plus the events it carries (<see cref="RecordWithEvents.TakeEvents"/>) into the
    /// log if it stored the row: the rows the database's trigger makes of a record that holds
    /// them (migration 0010), without parsing them back out of the record's JSON. With
    /// <paramref name="newChat"/>, also a new chat's offers and deadline (<see cref="ChatRecord.NewChatRows"/>),
    /// so a creation is one statement, which stores all of it or, when another activation stored
    /// the chat first, nothing.
    /// </summary>
    private static string WithEvents(string write, int firstParameter, bool newChat = false) => $"""
        WITH stored AS ({write}),
        logged AS (
            INSERT INTO events (id, type, occurred_at, chat_id, chat_seq, data)
            SELECT e.id, e.type, e.occurred_at, e.chat_id, e.chat_seq, convert_from($8, 'UTF8')::json -> 'Value'
            FROM stored, unnest(${firstParameter}::uuid[], ${firstParameter + 1}::text[], ${firstParameter + 2}::timestamptz[],
                ${firstParameter + 3}::uuid[], ${firstParameter + 4}::bigint[]) AS e (id, type, occurred_at, chat_id, chat_seq))
        {(newChat ? NewChatRowsSql(firstParameter + 5) : "")}
        SELECT version FROM stored
        """;

    /// <summary>The statements of <see cref="PostgresOfferBook.RecordAsync"/> and <see cref="PostgresChatDeadlines.SetAsync"/>, for a stored row only.</summary>
    private static string NewChatRowsSql(int firstParameter) => $"""
        , offered AS (
            INSERT INTO chat_offers (commercial_id, chat_id, offered_at)
            SELECT o, ${firstParameter + 1}, now() FROM stored, unnest(${firstParameter}::uuid[]) AS o
            ON CONFLICT DO NOTHING),
        due AS (
            INSERT INTO chat_deadlines (chat_id, due_at) SELECT ${firstParameter + 1}, ${firstParameter + 2} FROM stored
            ON CONFLICT (chat_id) DO UPDATE SET due_at = excluded.due_at)
        """;

    private string NewVersion(RowStatement statement, string operation, string stateName, GrainId grainId, string? etag) =>
        statement.Version is { } version
            ? version.ToString(CultureInfo.InvariantCulture)
            : throw new InconsistentStateException(
                $"Version conflict ({operation}): ServiceId={_serviceId} ProviderName={_name} GrainType={stateName} GrainId={grainId} ETag={etag}.");

    private static int Version(string etag) => int.Parse(etag, CultureInfo.InvariantCulture);

    private T NewState<T>() => _activators.GetActivator<T>().Create();

    /// <summary>The row's key columns as <c>AdoNetGrainStorage</c> computes them (Orleans' <c>AdoGrainKey</c> and default hasher).</summary>
    private GrainRow RowOf(string stateName, GrainId grainId)
    {
        long n0 = 0, n1 = 0;
        string? extension;
        byte[] hashed;
        if (grainId.TryGetGuidKey(out var guid, out extension))
        {
            var bytes = guid.ToByteArray();
            n0 = BitConverter.ToInt64(bytes, 0);
            n1 = BitConverter.ToInt64(bytes, 8);
            hashed = bytes;
        }
        else if (grainId.TryGetIntegerKey(out var integer, out extension))
        {
            n1 = integer;
            hashed = BitConverter.GetBytes(integer);
        }
        else
        {
            extension = grainId.Key.ToString();
            hashed = [];
        }
        if (extension is not null)
        {
            hashed = [.. hashed, .. Encoding.UTF8.GetBytes(extension)];
        }
        if (BitConverter.IsLittleEndian)
        {
            Array.Reverse(hashed);
        }
        return new GrainRow(Hasher.Hash(hashed), Hasher.Hash(Encoding.UTF8.GetBytes(stateName)), n0, n1, stateName, extension, _serviceId);
    }

    private sealed record GrainRow(int IdHash, int TypeHash, long N0, long N1, string TypeName, string? Extension, string ServiceId)
    {
        // Two rows whose order values collide merely lock in no particular order.
        public Int128 LockOrder => new((ulong)(uint)IdHash << 32 | (uint)TypeHash, (ulong)(N0 ^ N1));
    }

    /// <summary>
    /// A read or write of one grain's row, answered with its payload and version when the row
    /// (still) matches; no version means no such row (a write: another activation's version).
    /// </summary>
    private sealed class RowStatement(
        string sql, GrainRow row, byte[]? payload = null, int? version = null, IReadOnlyList<RecordedEvent>? events = null, NewChatRows? newChat = null)
        : BatchedStatement
    {
        public byte[]? Payload { get; private set; }

        public int? Version { get; private set; }

        public override Int128 LockOrder => row.LockOrder;

        public override NpgsqlBatchCommand Command()
        {
            var command = new NpgsqlBatchCommand(sql);
            var parameters = command.Parameters;
            parameters.Add(new NpgsqlParameter<int> { TypedValue = row.IdHash });
            parameters.Add(new NpgsqlParameter<int> { TypedValue = row.TypeHash });
            parameters.Add(new NpgsqlParameter<long> { TypedValue = row.N0 });
            parameters.Add(new NpgsqlParameter<long> { TypedValue = row.N1 });
            parameters.Add(new NpgsqlParameter<string> { TypedValue = row.TypeName, NpgsqlDbType = NpgsqlDbType.Varchar });
            parameters.Add(new NpgsqlParameter { Value = (object?)row.Extension ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Varchar });
            parameters.Add(new NpgsqlParameter<string> { TypedValue = row.ServiceId, NpgsqlDbType = NpgsqlDbType.Varchar });
            if (payload is not null)
            {
                parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = payload });
            }
            if (version is { } expected)
            {
                parameters.Add(new NpgsqlParameter<int> { TypedValue = expected });
            }
            // A write's SQL takes the event parameters when it carries events or a new chat's rows.
            if (events is not null && (events.Count > 0 || newChat is not null))
            {
                parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. events.Select(e => Guid.CreateVersion7(e.OccurredAt))] });
                parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. events.Select(e => e.Type)] });
                parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. events.Select(e => e.OccurredAt.ToUniversalTime())] });
                parameters.Add(new NpgsqlParameter<Guid?[]> { TypedValue = [.. events.Select(e => e.ChatId)] });
                parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = [.. events.Select(e => e.ChatSeq)] });
            }
            if (newChat is not null)
            {
                parameters.Add(Parameters.Ids(newChat.OfferedTo));
                parameters.Add(Parameters.Id(newChat.ChatId));
                parameters.Add(Parameters.Time(newChat.UnansweredAt));
            }
            return command;
        }

        // Taken again when a failed batch is rerun statement by statement: nothing of the first
        // attempt (rolled back) may remain.
        public override void Take(NpgsqlDataReader? answer)
        {
            (Payload, Version) = answer switch
            {
                null => (null, null),
                // A read answers (payload, version); a write answers (version).
                { FieldCount: 2 } => (answer.IsDBNull(0) ? null : answer.GetFieldValue<byte[]>(0), answer.IsDBNull(1) ? null : answer.GetInt32(1)),
                _ => ((byte[]?)null, (int?)answer.GetInt32(0)),
            };
        }
    }
}

/// <summary><c>Storage:Postgres:*</c>: which grain storage a node on PostgreSQL uses, and how the batched one coalesces statements.</summary>
public sealed class PostgresGrainStorageOptions
{
    public const string Section = "Storage:Postgres";

    /// <summary><see cref="PostgresGrainStorageKind.Batched"/> (<see cref="PostgresGrainStorage"/>) or Orleans' <see cref="PostgresGrainStorageKind.AdoNet"/> provider, on the same table.</summary>
    public PostgresGrainStorageKind GrainStorage { get; set; } = PostgresGrainStorageKind.Batched;

    /// <summary>Batches of reads, and of writes, under way at once (each holds a pooled connection while it runs).</summary>
    public int ConcurrentBatches { get; set; } = 2;

    /// <summary>The most statements one round trip carries.</summary>
    public int MaxBatch { get; set; } = 128;
}

public enum PostgresGrainStorageKind
{
    Batched,
    AdoNet,
}
