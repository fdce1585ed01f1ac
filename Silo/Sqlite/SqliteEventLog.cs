using System.Globalization;
using ChatGrains.Grains;

namespace ChatGrains.Silo.Sqlite;

/// <summary>
/// <see cref="IEventLog"/> in the SQLite file's <c>events</c> table, which the triggers of migration
/// 0007 fill. The single writer commits in row order, so the row number is the log's order.
/// </summary>
internal sealed class SqliteEventLog(SqliteStorage storage) : IEventLog
{
    public async Task<EventPage> ReadAsync(EventPosition after, int limit, IReadOnlyCollection<string>? types, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        // One statement, one snapshot: the page, then (when it is not full) the last row of any type.
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT * FROM (
                SELECT position, id, type, occurred_at, chat_id, chat_seq, data FROM events
                WHERE position > $after {(types is null ? "" : "AND type IN (SELECT value FROM json_each($types))")}
                ORDER BY position LIMIT $limit)
            UNION ALL
            SELECT max(position), NULL, NULL, NULL, NULL, NULL, NULL FROM events
            """;
        command.Parameters.AddWithValue("$after", after.Row);
        command.Parameters.AddWithValue("$limit", limit);
        if (types is not null)
        {
            command.Parameters.AddWithValue("$types", System.Text.Json.JsonSerializer.Serialize(types));
        }
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<StoredEvent>();
        long? last = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.IsDBNull(1))
            {
                last = reader.IsDBNull(0) ? null : reader.GetInt64(0);
                continue;
            }
            events.Add(Event(reader));
        }
        // A full page ends at its last event; a page that is not full, at the last row of any type.
        var next = events.Count == limit ? events[^1].Position : new EventPosition(0, Math.Max(after.Row, last ?? 0));
        return new EventPage(events, next);
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadByIdsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT position, id, type, occurred_at, chat_id, chat_seq, data FROM events
            WHERE id IN (SELECT value FROM json_each($ids)) ORDER BY position
            """;
        command.Parameters.AddWithValue("$ids", System.Text.Json.JsonSerializer.Serialize(ids.Select(id => id.ToString())));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<StoredEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(Event(reader));
        }
        return events;
    }

    public async Task<EventPosition> EndAsync(CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(position), 0) FROM events";
        return new EventPosition(0, (long)(await command.ExecuteScalarAsync(cancellationToken))!);
    }

    private static StoredEvent Event(Microsoft.Data.Sqlite.SqliteDataReader reader) => new(
        new EventPosition(0, reader.GetInt64(0)), Guid.Parse(reader.GetString(1)), reader.GetString(2),
        DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        reader.IsDBNull(4) ? null : Guid.Parse(reader.GetString(4)), reader.IsDBNull(5) ? null : reader.GetInt64(5), reader.GetString(6));

    public async Task<int> DeleteOlderThanAsync(TimeSpan age, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await storage.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            DELETE FROM events WHERE position IN (
                SELECT position FROM events
                WHERE stored_at < CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) - $age
                ORDER BY position LIMIT $limit)
            """;
        command.Parameters.AddWithValue("$age", (long)age.TotalMilliseconds);
        command.Parameters.AddWithValue("$limit", limit);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
