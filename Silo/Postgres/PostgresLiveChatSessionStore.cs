using System.Text.Json;
using ChatGrains.Grains;
using Npgsql;
using NpgsqlTypes;

namespace ChatGrains.Silo.Postgres;

internal sealed class PostgresLiveChatSessionStore(NpgsqlDataSource db, StorageReadiness readiness) : ILiveChatSessionStore
{
    // The user, the session and the event in one statement: one round trip, one transaction.
    private const string Insert = """
        WITH user_row AS (
            INSERT INTO guest_users (id, name, city, country, created_at) VALUES ($1, $2, $3, $4, $5)
        ), session_row AS (
            INSERT INTO livechat_sessions (id, user_id, created_at, expires_at) VALUES ($6, $1, $5, $7)
        )
        INSERT INTO outbox (grain_id, kind, payload, created_at) VALUES ($6, 'LiveChatSessionStarted', $8, $5)
        """;

    public async Task InsertAsync(LiveChatSession session, LiveChatSessionStarted started, CancellationToken cancellationToken)
    {
        readiness.EnsureReady();
        try
        {
            await using var command = db.CreateCommand(Insert);
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = session.User.Id });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = session.User.Name });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = session.User.City });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = session.User.Country });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = session.CreatedAt });
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = session.Id });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = session.ExpiresAt });
            command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Json, TypedValue = JsonSerializer.Serialize(started, StorageJson.Default.LiveChatSessionStarted) });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception ex) when (PostgresStorage.IsUnavailable(ex))
        {
            throw PostgresStorage.Unavailable(ex);
        }
    }
}
