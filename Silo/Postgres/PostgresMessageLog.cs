using ChatGrains.Grains;
using Npgsql;
using Orleans.Storage;
using static ChatGrains.Silo.Postgres.Parameters;

namespace ChatGrains.Silo.Postgres;

/// <summary>
/// <see cref="IMessageLog"/> in the <c>chat_messages</c> table. An append rides the node's write
/// batches, so the messages of many chats share one commit; reads go straight to the pool. An
/// appended message's <c>message.created</c> event is written by its own statement.
/// </summary>
internal sealed class PostgresMessageLog(NpgsqlDataSource db, PostgresBatches batches) : IMessageLog
{
    private const string Columns = "seq, client_message_id, sender_role, sender_id, text, sent_at";

    public async Task<ConversationMessage?> AppendAsync(Guid chatId, ConversationMessage message, long eventSeq)
    {
        var append = new AppendStatement(chatId, message, eventSeq);
        try
        {
            await batches.Writes.RunAsync(append);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // The client id's conflict is handled by the statement: this is the sequence number's.
            throw new InconsistentStateException($"Message {message.Seq} of chat {chatId} was stored by another activation.", exception);
        }
        return append.Stored ? null : await FindAsync(chatId, message.Id)
            ?? throw new InconsistentStateException($"A message of chat {chatId} with the same client id was not found after it conflicted.");
    }

    public async Task<ConversationMessage?> FindAsync(Guid chatId, Guid clientMessageId)
    {
        var found = await QueryAsync($"SELECT {Columns} FROM chat_messages WHERE chat_id = $1 AND client_message_id = $2", Id(chatId), Id(clientMessageId));
        return found.Length == 0 ? null : found[0];
    }

    public Task<ConversationMessage[]> ReadAsync(Guid chatId, long fromSeq, long toSeq) =>
        QueryAsync($"SELECT {Columns} FROM chat_messages WHERE chat_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq", Id(chatId), Seq(fromSeq), Seq(toSeq));

    public async Task<MessageTally> TallyAsync(Guid chatId, long readUpToSeq)
    {
        await using var command = db.CreateCommand("""
            SELECT coalesce(max(seq), 0), count(*) FILTER (WHERE sender_role = 'visitor' AND seq > $2)::int, max(sent_at),
                greatest(coalesce(max(event_seq), 0), (SELECT coalesce(max(chat_seq), 0) FROM events WHERE chat_id = $1))
            FROM chat_messages WHERE chat_id = $1
            """);
        command.Parameters.Add(Id(chatId));
        command.Parameters.Add(Seq(readUpToSeq));
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new MessageTally(reader.GetInt64(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt64(3));
    }

    public async Task ImportAsync(Guid chatId, IReadOnlyCollection<ConversationMessage> messages)
    {
        await using var batch = db.CreateBatch();
        foreach (var message in messages)
        {
            batch.BatchCommands.Add(AppendStatement.Insert(chatId, message, eventSeq: null, "ON CONFLICT DO NOTHING"));
        }
        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync();
        }
    }

    private async Task<ConversationMessage[]> QueryAsync(string sql, params NpgsqlParameter[] parameters)
    {
        await using var command = db.CreateCommand(sql);
        command.Parameters.AddRange(parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var messages = new List<ConversationMessage>();
        while (await reader.ReadAsync())
        {
            messages.Add(new ConversationMessage(
                reader.GetInt64(0), reader.GetGuid(1), SenderRoles.Parse(reader.GetString(2)), reader.GetGuid(3), reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5)));
        }
        return [.. messages];
    }

    private static NpgsqlParameter<long> Seq(long seq) => new() { TypedValue = seq };

    /// <summary>One message's insert, answered with whether it stored the row (no: its client id was taken).</summary>
    private sealed class AppendStatement(Guid chatId, ConversationMessage message, long eventSeq) : BatchedStatement
    {
        public bool Stored { get; private set; }

        // By chat, then sequence number: two activations of one chat racing insert in the same order.
        public override Int128 LockOrder => new(BitConverter.ToUInt64(chatId.ToByteArray(), 0), (ulong)message.Seq);

        // The event's data is the message as the hub sends it (ConversationMessage's stored form).
        public override NpgsqlBatchCommand Command()
        {
            var command = Insert(chatId, message, eventSeq, "ON CONFLICT (chat_id, client_message_id) DO NOTHING RETURNING seq");
            command.CommandText = $"""
                WITH stored AS ({command.CommandText}),
                logged AS (
                    INSERT INTO events (id, type, occurred_at, chat_id, chat_seq, data)
                    SELECT $9, 'message.created', $7, $1, $8, json_build_object(
                        'Seq', $2, 'Id', $3, 'SenderRole', $4, 'SenderId', $5, 'Text', $6, 'SentAt', $7)
                    FROM stored)
                SELECT seq FROM stored
                """;
            command.Parameters.Add(Id(Guid.CreateVersion7(message.SentAt)));
            return command;
        }

        public override void Take(NpgsqlDataReader? row) => Stored = row is not null;

        public static NpgsqlBatchCommand Insert(Guid chatId, ConversationMessage message, long? eventSeq, string onConflict)
        {
            var command = new NpgsqlBatchCommand($"""
                INSERT INTO chat_messages (chat_id, {Columns}, event_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {onConflict}
                """);
            command.Parameters.Add(Id(chatId));
            command.Parameters.Add(Seq(message.Seq));
            command.Parameters.Add(Id(message.Id));
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SenderRoles.Name(message.SenderRole) });
            command.Parameters.Add(Id(message.SenderId));
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = message.Text });
            command.Parameters.Add(Time(message.SentAt));
            command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = eventSeq, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
            return command;
        }
    }
}
