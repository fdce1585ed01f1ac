using System.Text.Json;
using ChatGrains.Grains;
using Npgsql;

namespace ChatGrains.Silo.Postgres;

internal sealed class PostgresGuestSessionStore(NpgsqlDataSource db, StorageReadiness readiness) : IGuestSessionStore
{
    // One round trip for a new session: the row and its outbox event in one implicit
    // transaction; when the key exists, the same statement returns the stored row instead.
    private const string InsertIfAbsent = """
        WITH inserted AS (
            INSERT INTO chat_sessions (session_key, id, guest_name, guest_email, guest_phone, status, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
            ON CONFLICT (session_key) DO NOTHING
            RETURNING id
        ), event AS (
            INSERT INTO outbox (grain_id, kind, payload, created_at)
            SELECT id, 'GuestSessionStarted', $8, $7 FROM inserted
        )
        SELECT true, NULL::uuid, NULL, NULL, NULL, NULL, NULL::timestamptz, NULL::timestamptz FROM inserted
        UNION ALL
        SELECT false, id, guest_name, guest_email, guest_phone, status, created_at, updated_at
        FROM chat_sessions WHERE session_key = $1 AND NOT EXISTS (SELECT 1 FROM inserted)
        """;

    private const string SelectSession = """
        SELECT false, id, guest_name, guest_email, guest_phone, status, created_at, updated_at
        FROM chat_sessions WHERE session_key = $1
        """;

    private const string SelectMessages = """
        SELECT id, sender, body, created_at FROM chat_messages WHERE session_key = $1 ORDER BY created_at, id
        """;

    public async Task<GuestSessionOpening> InsertIfAbsentAsync(GuestSession session, GuestSessionStarted started, CancellationToken cancellationToken)
    {
        readiness.EnsureReady();
        try
        {
            await using var command = db.CreateCommand(InsertIfAbsent);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = session.SessionKey });
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = session.Id });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)session.GuestName ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)session.GuestEmail ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)session.GuestPhone ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = session.Status.ToString().ToLowerInvariant() });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = session.CreatedAt });
            command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Json, TypedValue = JsonSerializer.Serialize(started, StorageJson.Default.GuestSessionStarted) });

            var stored = await ReadSessionAsync(command, session.SessionKey, cancellationToken);
            if (stored is null)
            {
                // The conflicting row was committed after this statement's snapshot: read it now.
                await using var select = db.CreateCommand(SelectSession);
                select.Parameters.Add(new NpgsqlParameter<string> { TypedValue = session.SessionKey });
                stored = await ReadSessionAsync(select, session.SessionKey, cancellationToken)
                    ?? throw new InvalidOperationException("A guest session conflicted but cannot be read back.");
            }
            if (stored.Value.Created)
            {
                return new GuestSessionOpening(session, [], Created: true);
            }
            return new GuestSessionOpening(stored.Value.Session!, await ReadMessagesAsync(session.SessionKey, cancellationToken), Created: false);
        }
        catch (Exception ex) when (PostgresStorage.IsUnavailable(ex))
        {
            throw PostgresStorage.Unavailable(ex);
        }
    }

    private static async Task<(bool Created, GuestSession? Session)?> ReadSessionAsync(NpgsqlCommand command, string sessionKey, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        if (reader.GetBoolean(0))
        {
            return (true, null);
        }
        return (false, new GuestSession(
            Id: reader.GetGuid(1),
            SessionKey: sessionKey,
            GuestName: reader.IsDBNull(2) ? null : reader.GetString(2),
            GuestEmail: reader.IsDBNull(3) ? null : reader.GetString(3),
            GuestPhone: reader.IsDBNull(4) ? null : reader.GetString(4),
            Status: Enum.Parse<GuestSessionStatus>(reader.GetString(5), ignoreCase: true),
            CreatedAt: reader.GetFieldValue<DateTimeOffset>(6),
            UpdatedAt: reader.GetFieldValue<DateTimeOffset>(7)));
    }

    private async Task<List<ChatMessage>> ReadMessagesAsync(string sessionKey, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(SelectMessages);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sessionKey });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var messages = new List<ChatMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            messages.Add(new ChatMessage(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }
        return messages;
    }
}
