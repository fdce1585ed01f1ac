using System.Globalization;
using ChatGrains.Grains;
using Npgsql;
using NpgsqlTypes;

namespace ChatGrains.Silo.Postgres;

/// <summary>
/// <see cref="IEventLog"/> in the <c>events</c> table (migrations 0010 and 0011), in (writing
/// transaction, row) order.
/// A page holds only events of transactions older than every one still running, read in one
/// statement (one snapshot) with the last such event of any type, which ends a page that is not full.
/// </summary>
internal sealed class PostgresEventLog(NpgsqlDataSource db) : IEventLog
{
    // The order is tx's as an xid8, never its text: an ORDER BY naming a column that the SELECT
    // list also outputs as text sorts by the text ("997" after "8348"), hence events.tx below.
    private const string ReadSql = """
        WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
        page AS (
            SELECT tx, position, id, type, occurred_at, chat_id, chat_seq, data FROM events
            WHERE (tx, position) > ($1::text::xid8, $2) AND tx < (SELECT xmin FROM horizon)
              AND ($3::text[] IS NULL OR type = ANY($3))
            ORDER BY tx, position
            LIMIT $4),
        rows AS (
            SELECT tx, position, id, type, occurred_at, chat_id, chat_seq, data FROM page
            UNION ALL
            SELECT tx, position, NULL, NULL, NULL, NULL, NULL, NULL FROM (
                SELECT tx, position FROM events
                WHERE tx < (SELECT xmin FROM horizon)
                ORDER BY tx DESC, position DESC
                LIMIT 1) AS last
            WHERE (SELECT count(*) FROM page) < $4)
        SELECT tx::text, position, id, type, occurred_at, chat_id, chat_seq, data::text FROM rows
        ORDER BY rows.tx, rows.position, rows.id NULLS LAST
        """;

    public async Task<EventPage> ReadAsync(EventPosition after, int limit, IReadOnlyCollection<string>? types, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(ReadSql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = after.Transaction.ToString(CultureInfo.InvariantCulture) });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.Row });
        command.Parameters.Add(new NpgsqlParameter { Value = types is null ? DBNull.Value : types.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<StoredEvent>();
        var next = after;
        while (await reader.ReadAsync(cancellationToken))
        {
            var position = Position(reader);
            if (!reader.IsDBNull(2))
            {
                events.Add(Event(reader));
            }
            // The end marker (only there when the page is not full) is behind the reader's
            // position when nothing is new.
            next = position.IsAfter(next) ? position : next;
        }
        return new EventPage(events, next);
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadByIdsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            SELECT tx::text, position, id, type, occurred_at, chat_id, chat_seq, data::text FROM events
            WHERE id = ANY($1) ORDER BY events.tx, events.position
            """);
        command.Parameters.Add(Parameters.Ids(ids));
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
        await using var command = db.CreateCommand("""
            SELECT tx::text, position FROM events WHERE tx < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY events.tx DESC, events.position DESC LIMIT 1
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Position(reader) : EventPosition.Start;
    }

    private static EventPosition Position(NpgsqlDataReader reader) =>
        new(ulong.Parse(reader.GetString(0), CultureInfo.InvariantCulture), reader.GetInt64(1));

    private static StoredEvent Event(NpgsqlDataReader reader) => new(
        Position(reader), reader.GetGuid(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4),
        reader.IsDBNull(5) ? null : reader.GetGuid(5), reader.IsDBNull(6) ? null : reader.GetInt64(6), reader.GetString(7));

    public async Task<int> DeleteOlderThanAsync(TimeSpan age, int limit, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            DELETE FROM events WHERE id = ANY(ARRAY(SELECT id FROM events WHERE stored_at < now() - $1 LIMIT $2))
            """);
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = age });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
