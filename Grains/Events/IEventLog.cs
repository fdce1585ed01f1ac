namespace ChatGrains.Grains;

/// <summary>A stored event as the log returns it; <see cref="Data"/> is the changed record's value as stored (JSON).</summary>
public sealed record StoredEvent(
    EventPosition Position, Guid Id, string Type, DateTimeOffset OccurredAt, Guid? ChatId, long? ChatSeq, string Data);

/// <summary>
/// Where an event sits in the log's one order. On PostgreSQL, the writing transaction's id, then
/// the row's number within the log (<see cref="Transaction"/> is 0 on SQLite, whose single writer
/// commits in row order).
/// </summary>
public readonly record struct EventPosition(ulong Transaction, long Row)
{
    public static EventPosition Start => default;

    public bool IsAfter(EventPosition other) =>
        Transaction != other.Transaction ? Transaction > other.Transaction : Row > other.Row;
}

/// <summary>One read of the log: the events, and where the next read starts.</summary>
/// <param name="Next">
/// After the last event returned; when the page is not full, after the last event stored so far
/// (of any type), so a reader filtering for rare types does not scan the same events again.
/// </param>
public sealed record EventPage(IReadOnlyList<StoredEvent> Events, EventPosition Next);

/// <summary>
/// The durable event log. Events are written by the database itself, in the statement that stores
/// the change they report (a chat's or a session's record, a message's row), so an event exists
/// if and only if its change was stored; this reads them back in one order that every node
/// serves the same way, and removes them after their retention.
/// </summary>
public interface IEventLog
{
    /// <summary>
    /// Up to <paramref name="limit"/> events after <paramref name="after"/>, of the given types (all
    /// when null), in the log's order. An event is returned only once every event before it in
    /// that order is committed, so a reader that continues from <see cref="EventPage.Next"/>
    /// never misses one.
    /// </summary>
    Task<EventPage> ReadAsync(EventPosition after, int limit, IReadOnlyCollection<string>? types, CancellationToken cancellationToken);

    /// <summary>The events with these ids that are still kept, in the log's order.</summary>
    Task<IReadOnlyList<StoredEvent>> ReadByIdsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken);

    /// <summary>The position after every event a reader may be served now (a new reader's start).</summary>
    Task<EventPosition> EndAsync(CancellationToken cancellationToken);

    /// <summary>Deletes up to <paramref name="limit"/> events stored more than <paramref name="age"/> ago; answers how many.</summary>
    Task<int> DeleteOlderThanAsync(TimeSpan age, int limit, CancellationToken cancellationToken);
}
