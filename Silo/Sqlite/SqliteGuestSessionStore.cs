using System.Globalization;
using System.Text.Json;
using ChatGrains.Grains;
using Microsoft.Data.Sqlite;

namespace ChatGrains.Silo.Sqlite;

internal sealed class SqliteGuestSessionStore(SqliteStorage db, StorageReadiness readiness) : IGuestSessionStore
{
    public async Task<GuestSessionOpening> InsertIfAbsentAsync(GuestSession session, GuestSessionStarted started, CancellationToken cancellationToken)
    {
        readiness.EnsureReady();
        try
        {
            await using var connection = await db.OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var createdAt = session.CreatedAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT INTO chat_sessions (session_key, id, guest_name, guest_email, guest_phone, status, created_at, updated_at)
                VALUES ($key, $id, $name, $email, $phone, $status, $createdAt, $createdAt)
                ON CONFLICT (session_key) DO NOTHING
                """;
            insert.Parameters.AddWithValue("$key", session.SessionKey);
            insert.Parameters.AddWithValue("$id", session.Id.ToString());
            insert.Parameters.AddWithValue("$name", (object?)session.GuestName ?? DBNull.Value);
            insert.Parameters.AddWithValue("$email", (object?)session.GuestEmail ?? DBNull.Value);
            insert.Parameters.AddWithValue("$phone", (object?)session.GuestPhone ?? DBNull.Value);
            insert.Parameters.AddWithValue("$status", session.Status.ToString().ToLowerInvariant());
            insert.Parameters.AddWithValue("$createdAt", createdAt);

            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                await using var outbox = connection.CreateCommand();
                outbox.Transaction = transaction;
                outbox.CommandText = "INSERT INTO outbox (grain_id, kind, payload, created_at) VALUES ($id, 'GuestSessionStarted', $payload, $createdAt)";
                outbox.Parameters.AddWithValue("$id", session.Id.ToString());
                outbox.Parameters.AddWithValue("$payload", JsonSerializer.Serialize(started, StorageJson.Default.GuestSessionStarted));
                outbox.Parameters.AddWithValue("$createdAt", createdAt);
                await outbox.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new GuestSessionOpening(session, [], Created: true);
            }

            var stored = await ReadSessionAsync(connection, transaction, session.SessionKey, cancellationToken);
            var messages = await ReadMessagesAsync(connection, transaction, session.SessionKey, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new GuestSessionOpening(stored, messages, Created: false);
        }
        catch (SqliteException ex) when (SqliteStorage.IsUnavailable(ex))
        {
            throw SqliteStorage.Unavailable(ex);
        }
    }

    private static async Task<GuestSession> ReadSessionAsync(SqliteConnection connection, SqliteTransaction transaction, string key, CancellationToken cancellationToken)
    {
        await using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = "SELECT id, guest_name, guest_email, guest_phone, status, created_at, updated_at FROM chat_sessions WHERE session_key = $key";
        select.Parameters.AddWithValue("$key", key);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException("A guest session conflicted but cannot be read back.");
        }
        return new GuestSession(
            Id: Guid.Parse(reader.GetString(0)),
            SessionKey: key,
            GuestName: reader.IsDBNull(1) ? null : reader.GetString(1),
            GuestEmail: reader.IsDBNull(2) ? null : reader.GetString(2),
            GuestPhone: reader.IsDBNull(3) ? null : reader.GetString(3),
            Status: Enum.Parse<GuestSessionStatus>(reader.GetString(4), ignoreCase: true),
            CreatedAt: Timestamp(reader.GetString(5)),
            UpdatedAt: Timestamp(reader.GetString(6)));
    }

    private static async Task<List<ChatMessage>> ReadMessagesAsync(SqliteConnection connection, SqliteTransaction transaction, string key, CancellationToken cancellationToken)
    {
        await using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = "SELECT id, sender, body, created_at FROM chat_messages WHERE session_key = $key ORDER BY created_at, id";
        select.Parameters.AddWithValue("$key", key);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        var messages = new List<ChatMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            messages.Add(new ChatMessage(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), Timestamp(reader.GetString(3))));
        }
        return messages;
    }

    private static DateTimeOffset Timestamp(string value) =>
        DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
