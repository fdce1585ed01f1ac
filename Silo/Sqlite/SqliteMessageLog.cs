using ChatGrains.Grains;
using Microsoft.Data.Sqlite;
using Orleans.Storage;

namespace ChatGrains.Silo.Sqlite;

/// <summary>
/// <see cref="IMessageLog"/> in the SQLite file's <c>chat_messages</c> table (ids as text, times as
/// Unix milliseconds). A row with an <c>event_seq</c> gets its <c>message.created</c> event from the table's trigger.
/// </summary>
internal sealed class SqliteMessageLog(SqliteStorage storage) : IMessageLog
{
    private const string Columns = "seq, client_message_id, sender_role, sender_id, text, sent_at";

    private const string InsertSql = $"""
        INSERT INTO chat_messages (chat_id, {Columns}, event_seq) VALUES ($chat, $seq, $id, $role, $sender, $text, $at, $eventSeq)
        """;

    // SQLite's extended result codes for a primary key's constraint (the sequence number's), and
    // a unique one (the chat's event number, taken in the event log by the trigger).
    private const int PrimaryKeyConstraint = 1555;
    private const int UniqueConstraint = 2067;

    public async Task<ConversationMessage?> AppendAsync(Guid chatId, ConversationMessage message, long eventSeq)
    {
        int stored;
        await using (var connection = await storage.OpenAsync(CancellationToken.None))
        {
            await using var command = Insert(connection, chatId, message, eventSeq, "ON CONFLICT (chat_id, client_message_id) DO NOTHING");
            try
            {
                stored = await command.ExecuteNonQueryAsync();
            }
            catch (SqliteException exception) when (exception.SqliteExtendedErrorCode is PrimaryKeyConstraint or UniqueConstraint)
            {
                throw new InconsistentStateException($"Message {message.Seq} of chat {chatId} was stored by another activation.", exception);
            }
        }
        return stored == 1 ? null : await FindAsync(chatId, message.Id)
            ?? throw new InconsistentStateException($"A message of chat {chatId} with the same client id was not found after it conflicted.");
    }

    public async Task<ConversationMessage?> FindAsync(Guid chatId, Guid clientMessageId)
    {
        var found = await QueryAsync($"SELECT {Columns} FROM chat_messages WHERE chat_id = $chat AND client_message_id = $id",
            ("$chat", chatId.ToString()), ("$id", clientMessageId.ToString()));
        return found.Length == 0 ? null : found[0];
    }

    public Task<ConversationMessage[]> ReadAsync(Guid chatId, long fromSeq, long toSeq) =>
        QueryAsync($"SELECT {Columns} FROM chat_messages WHERE chat_id = $chat AND seq BETWEEN $from AND $to ORDER BY seq",
            ("$chat", chatId.ToString()), ("$from", fromSeq), ("$to", toSeq));

    public async Task<MessageTally> TallyAsync(Guid chatId, long readUpToSeq)
    {
        await using var connection = await storage.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT coalesce(max(seq), 0), count(*) FILTER (WHERE sender_role = 'visitor' AND seq > $read), max(sent_at),
                max(coalesce(max(event_seq), 0), (SELECT coalesce(max(chat_seq), 0) FROM events WHERE chat_id = $chat))
            FROM chat_messages WHERE chat_id = $chat
            """;
        command.Parameters.AddWithValue("$chat", chatId.ToString());
        command.Parameters.AddWithValue("$read", readUpToSeq);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new MessageTally(
            reader.GetInt64(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), reader.GetInt64(3));
    }

    public async Task ImportAsync(Guid chatId, IReadOnlyCollection<ConversationMessage> messages)
    {
        await using var connection = await storage.OpenAsync(CancellationToken.None);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        foreach (var message in messages)
        {
            await using var command = Insert(connection, chatId, message, eventSeq: null, "ON CONFLICT DO NOTHING");
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    private static SqliteCommand Insert(SqliteConnection connection, Guid chatId, ConversationMessage message, long? eventSeq, string onConflict)
    {
        var command = connection.CreateCommand();
        command.CommandText = $"{InsertSql} {onConflict}";
        command.Parameters.AddWithValue("$chat", chatId.ToString());
        command.Parameters.AddWithValue("$seq", message.Seq);
        command.Parameters.AddWithValue("$id", message.Id.ToString());
        command.Parameters.AddWithValue("$role", SenderRoles.Name(message.SenderRole));
        command.Parameters.AddWithValue("$sender", message.SenderId.ToString());
        command.Parameters.AddWithValue("$text", message.Text);
        command.Parameters.AddWithValue("$at", message.SentAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$eventSeq", (object?)eventSeq ?? DBNull.Value);
        return command;
    }

    private async Task<ConversationMessage[]> QueryAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await storage.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        await using var reader = await command.ExecuteReaderAsync();
        var messages = new List<ConversationMessage>();
        while (await reader.ReadAsync())
        {
            messages.Add(new ConversationMessage(
                reader.GetInt64(0), Guid.Parse(reader.GetString(1)), SenderRoles.Parse(reader.GetString(2)), Guid.Parse(reader.GetString(3)),
                reader.GetString(4), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
        }
        return [.. messages];
    }
}
