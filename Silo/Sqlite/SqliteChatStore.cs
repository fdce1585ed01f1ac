using System.Text.Json;
using ChatGrains.Grains;
using Microsoft.Data.Sqlite;

namespace ChatGrains.Silo.Sqlite;

internal sealed class SqliteChatStore(SqliteStorage db, StorageReadiness readiness) : IChatStore
{
    public async Task<ChatCreation> InsertIfAbsentAsync(Chat chat, ChatCreated created, CancellationToken cancellationToken)
    {
        readiness.EnsureReady();
        try
        {
            await using var connection = await db.OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var id = chat.Id.ToString();

            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO chats (id, visitor_id, status, priority, created_at, updated_at, document)
                VALUES ($id, $visitorId, $status, $priority, $createdAt, $createdAt, $document)
                ON CONFLICT (id) DO NOTHING
                """;
            insert.Parameters.AddWithValue("$id", id);
            insert.Parameters.AddWithValue("$visitorId", chat.VisitorId.ToString());
            insert.Parameters.AddWithValue("$status", chat.Status.ToString().ToUpperInvariant());
            insert.Parameters.AddWithValue("$priority", chat.Priority.ToString().ToUpperInvariant());
            insert.Parameters.AddWithValue("$createdAt", chat.CreatedAt.UtcDateTime.ToString("O"));
            insert.Parameters.AddWithValue("$document", JsonSerializer.Serialize(chat, StorageJson.Default.Chat));

            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                await using var outbox = connection.CreateCommand();
                outbox.Transaction = transaction;
                outbox.CommandText = "INSERT INTO outbox (grain_id, kind, payload, created_at) VALUES ($id, 'ChatCreated', $payload, $createdAt)";
                outbox.Parameters.AddWithValue("$id", id);
                outbox.Parameters.AddWithValue("$payload", JsonSerializer.Serialize(created, StorageJson.Default.ChatCreated));
                outbox.Parameters.AddWithValue("$createdAt", chat.CreatedAt.UtcDateTime.ToString("O"));
                await outbox.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new ChatCreation(chat, Created: true);
            }

            await using var select = connection.CreateCommand();
            select.Transaction = transaction;
            select.CommandText = "SELECT document FROM chats WHERE id = $id";
            select.Parameters.AddWithValue("$id", id);
            var document = (string)(await select.ExecuteScalarAsync(cancellationToken))!;
            await transaction.CommitAsync(cancellationToken);
            return new ChatCreation(
                JsonSerializer.Deserialize(document, StorageJson.Default.Chat) ?? throw new InvalidOperationException("A stored chat document is null."),
                Created: false);
        }
        catch (SqliteException ex) when (SqliteStorage.IsUnavailable(ex))
        {
            throw SqliteStorage.Unavailable(ex);
        }
    }
}
