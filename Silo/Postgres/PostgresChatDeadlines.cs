using ChatGrains.Grains;
using Npgsql;
using static ChatGrains.Silo.Postgres.Parameters;

namespace ChatGrains.Silo.Postgres;

/// <summary>
/// <see cref="IChatDeadlines"/> in the <c>chat_deadlines</c> table. Settings ride the node's write
/// batches (a creation's deadline shares the commit of its offers); a claim is one statement that
/// skips rows another node's claim holds, so two sweeps never wait for each other.
/// </summary>
internal sealed class PostgresChatDeadlines(NpgsqlDataSource db, PostgresBatches batches) : IChatDeadlines
{
    public Task SetAsync(Guid chatId, DateTimeOffset dueAt) => batches.Writes.RunAsync(new Statement(
        "INSERT INTO chat_deadlines (chat_id, due_at) VALUES ($1, $2) ON CONFLICT (chat_id) DO UPDATE SET due_at = excluded.due_at RETURNING chat_id",
        OrderOf(chatId), Id(chatId), Time(dueAt)));

    public Task ClearAsync(Guid chatId) => batches.Writes.RunAsync(new Statement(
        "DELETE FROM chat_deadlines WHERE chat_id = $1 RETURNING chat_id",
        OrderOf(chatId), Id(chatId)));

    public async Task<IReadOnlyList<Guid>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            UPDATE chat_deadlines SET due_at = $2
            WHERE chat_id IN (SELECT chat_id FROM chat_deadlines WHERE due_at <= $1 ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING chat_id
            """);
        command.Parameters.Add(Time(now));
        command.Parameters.Add(Time(now + lease));
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = max });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var due = new List<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(reader.GetGuid(0));
        }
        return due;
    }
}
