using System.Text.Json;
using ChatGrains.Grains;
using Npgsql;
using NpgsqlTypes;

namespace ChatGrains.Silo.Postgres;

internal sealed class PostgresChatStore(NpgsqlDataSource db, StorageReadiness readiness) : IChatStore
{
    // One round trip, one implicit transaction: the chat row and its outbox event are written
    // together or not at all. When the row already exists, the same statement returns it.
    private const string InsertIfAbsent = """
        WITH inserted AS (
            INSERT INTO chats (id, visitor_id, status, priority, created_at, updated_at, document)
            VALUES ($1, $2, $3, $4, $5, $5, $6)
            ON CONFLICT (id) DO NOTHING
            RETURNING id
        ), event AS (
            INSERT INTO outbox (grain_id, kind, payload, created_at)
            SELECT id, 'ChatCreated', $7, $5 FROM inserted
        )
        SELECT NULL::text FROM inserted
        UNION ALL
        SELECT document::text FROM chats WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM inserted)
        """;

    private const string SelectDocument = "SELECT document::text FROM chats WHERE id = $1";

    public async Task<ChatCreation> InsertIfAbsentAsync(Chat chat, ChatCreated created, CancellationToken cancellationToken)
    {
        readiness.EnsureReady();
        try
        {
            await using var command = db.CreateCommand(InsertIfAbsent);
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = chat.Id });
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = chat.VisitorId });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chat.Status.ToString().ToUpperInvariant() });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = chat.Priority.ToString().ToUpperInvariant() });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = chat.CreatedAt });
            command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Json, TypedValue = JsonSerializer.Serialize(chat, StorageJson.Default.Chat) });
            command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Json, TypedValue = JsonSerializer.Serialize(created, StorageJson.Default.ChatCreated) });

            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    return reader.IsDBNull(0)
                        ? new ChatCreation(chat, Created: true)
                        : new ChatCreation(Deserialize(reader.GetString(0)), Created: false);
                }
            }

            // No row: a concurrent creation committed after this statement's snapshot was taken,
            // so the conflict was seen but the winner's row was not. A new statement sees it.
            await using var select = db.CreateCommand(SelectDocument);
            select.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = chat.Id });
            var document = (string?)await select.ExecuteScalarAsync(cancellationToken)
                ?? throw new InvalidOperationException($"Chat {chat.Id} conflicted but cannot be read back.");
            return new ChatCreation(Deserialize(document), Created: false);
        }
        catch (Exception ex) when (PostgresStorage.IsUnavailable(ex))
        {
            throw PostgresStorage.Unavailable(ex);
        }
    }

    private static Chat Deserialize(string document) =>
        JsonSerializer.Deserialize(document, StorageJson.Default.Chat)
        ?? throw new InvalidOperationException("A stored chat document is null.");
}
