namespace ChatGrains.Grains;

/// <summary>The types of the events other systems read (<c>GET /v2/events</c>), one per kind of stored change.</summary>
public static class EventTypes
{
    public const string ChatCreated = "chat.created";
    public const string ChatAccepted = "chat.accepted";
    public const string ChatClosed = "chat.closed";
    public const string ChatReopened = "chat.reopened";
    public const string ChatRated = "chat.rated";
    public const string MessageCreated = "message.created";
    public const string GuestSessionStarted = "guest_session.started";
    public const string LiveChatSessionStarted = "livechat_session.started";

    public static readonly IReadOnlyList<string> All =
        [ChatCreated, ChatAccepted, ChatClosed, ChatReopened, ChatRated, MessageCreated, GuestSessionStarted, LiveChatSessionStarted];
}

/// <summary>
/// An event to be stored with the record write that carries it (<see cref="RecordWithEvents.Events"/>):
/// it goes into the event log, with the record's value as its data, in the statement that stores
/// the record (by the database's trigger, or by the storage itself).
/// </summary>
/// <param name="ChatSeq">The chat's event number (from 1, no gaps), for an event about a chat.</param>
public sealed record RecordedEvent(string Type, DateTimeOffset OccurredAt, Guid? ChatId = null, long? ChatSeq = null);
