namespace ChatGrains.Grains;

/// <summary>
/// What a chat's stored messages add up to: the last sequence number, how many of the visitor's
/// messages come after <c>readUpToSeq</c>, when the last one was sent, and the chat's last event
/// number stored — of a message's <c>message.created</c> event, or of any event the log still
/// holds (0 when there is none), so an activation numbers on after both.
/// </summary>
public readonly record struct MessageTally(long LastSeq, int UnreadByCommercial, DateTimeOffset? LastSentAt, long LastEventSeq);

/// <summary>
/// Every chat's messages, one row each, keyed by (chat, sequence number) and unique by (chat,
/// client message id). A message costs one small insert however long its chat is (the chat's
/// own record, rewritten whole, once held its open page); the chat grain orders the messages
/// and keeps its counters in memory, derived from here when it is activated.
/// </summary>
public interface IMessageLog
{
    /// <summary>
    /// Stores the message, durably, with its <c>message.created</c> event (the chat's event number
    /// <paramref name="eventSeq"/>), and answers null; or, when the chat already has a message
    /// with its client id, stores nothing and answers that one. A sequence number that is
    /// already taken means another activation of the chat wrote since this one tallied: that
    /// throws <see cref="Orleans.Storage.InconsistentStateException"/>.
    /// </summary>
    Task<ConversationMessage?> AppendAsync(Guid chatId, ConversationMessage message, long eventSeq);

    /// <summary>The chat's message with this client id, if it has one.</summary>
    Task<ConversationMessage?> FindAsync(Guid chatId, Guid clientMessageId);

    /// <summary>Messages <paramref name="fromSeq"/> … <paramref name="toSeq"/> of the chat, oldest first.</summary>
    Task<ConversationMessage[]> ReadAsync(Guid chatId, long fromSeq, long toSeq);

    /// <summary>The chat's messages added up; the unread are the visitor's after <paramref name="readUpToSeq"/>.</summary>
    Task<MessageTally> TallyAsync(Guid chatId, long readUpToSeq);

    /// <summary>Stores messages kept before messages were rows (without events: they were not new); those already stored stay as they are.</summary>
    Task ImportAsync(Guid chatId, IReadOnlyCollection<ConversationMessage> messages);
}
