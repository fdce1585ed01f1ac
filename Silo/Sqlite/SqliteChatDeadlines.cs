using ChatGrains.Grains;

namespace ChatGrains.Silo.Sqlite;

/// <summary><see cref="IChatDeadlines"/> in the SQLite file's <c>chat_deadlines</c> table (ids as text, times as Unix milliseconds).</summary>
internal sealed class SqliteChatDeadlines(SqliteStorage storage) : IChatDeadlines
{
    public Task SetAsync(Guid chatId, DateTimeOffset dueAt) => ExecuteAsync(
        "INSERT INTO chat_deadlines (chat_id, due_at) VALUES ($chat, $due) ON CONFLICT (chat_id) DO UPDATE SET due_at = excluded.due_at",
        ("$chat", chatId.ToString()), ("$due", dueAt.ToUnixTimeMilliseconds()));

    public Task ClearAsync(Guid chatId) => ExecuteAsync("DELETE FROM chat_deadlines WHERE chat_id = $chat", ("$chat", chatId.ToString()));

    public async Task<IReadOnlyList<Guid>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken)
    {
        // One node writes this file: the claim only has to be one statement.
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE chat_deadlines SET due_at = $leased
            WHERE chat_id IN (SELECT chat_id FROM chat_deadlines WHERE due_at <= $now ORDER BY due_at LIMIT $max)
            RETURNING chat_id
            """;
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$leased", (now + lease).ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$max", max);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var due = new List<Guid>();
        while (await reader.ReadAsync(cancellationToken))
        {
            due.Add(Guid.Parse(reader.GetString(0)));
        }
        return due;
    }

    private async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = await storage.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        await command.ExecuteNonQueryAsync();
    }
}
