using System.Globalization;
using System.Text.Json;
using ChatGrains.Grains;
using Microsoft.Data.Sqlite;

namespace ChatGrains.Silo.Sqlite;

internal sealed class SqliteLiveChatSessionStore(SqliteStorage db, StorageReadiness readiness) : ILiveChatSessionStore
{
    public async Task InsertAsync(LiveChatSession session, LiveChatSessionStarted started, CancellationToken cancellationToken)
    {
        readiness.EnsureReady();
        try
        {
            await using var connection = await db.OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO guest_users (id, name, city, country, created_at) VALUES ($userId, $name, $city, $country, $createdAt);
                INSERT INTO livechat_sessions (id, user_id, created_at, expires_at) VALUES ($sessionId, $userId, $createdAt, $expiresAt);
                INSERT INTO outbox (grain_id, kind, payload, created_at) VALUES ($sessionId, 'LiveChatSessionStarted', $payload, $createdAt);
                """;
            command.Parameters.AddWithValue("$userId", session.User.Id.ToString());
            command.Parameters.AddWithValue("$name", session.User.Name);
            command.Parameters.AddWithValue("$city", session.User.City);
            command.Parameters.AddWithValue("$country", session.User.Country);
            command.Parameters.AddWithValue("$createdAt", session.CreatedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$sessionId", session.Id.ToString());
            command.Parameters.AddWithValue("$expiresAt", session.ExpiresAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            command.Parameters.AddWithValue("$payload", JsonSerializer.Serialize(started, StorageJson.Default.LiveChatSessionStarted));
            await command.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (SqliteException ex) when (SqliteStorage.IsUnavailable(ex))
        {
            throw SqliteStorage.Unavailable(ex);
        }
    }
}
