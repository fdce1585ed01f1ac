using System.Text.Json.Serialization;

namespace ChatGrains.Grains;

/// <summary>
/// A chat grain's state: the chat, and what its assigned commercial has read. The messages are
/// rows of their own (<see cref="IMessageLog"/>); the chat's message counters are stored when
/// the record is written for another reason, and derived from the rows when its grain loads it.
/// Records from before conversations read as a chat without any.
/// </summary>
public sealed class ChatRecord : CreatedOnce<Chat>
{
    /// <summary>
    /// Every commercial the chat was assigned to, in any episode (the current one is the chat's
    /// <c>AssignedCommercialId</c>): each may read its transcript. Records from before list none;
    /// their assigned commercial counts.
    /// </summary>
    public Guid[] AssignedCommercialIds { get; set; } = [];

    /// <summary>When the chat's status last changed (accepted, closed, reopened); null while it has the status it was created with.</summary>
    public DateTimeOffset? StatusSince { get; set; }

    /// <summary>
    /// The chat's event number (<c>chatSeq</c>) of the last event stored with this record; a
    /// message's event, stored with its row, may be later (<see cref="MessageTally.LastEventSeq"/>).
    /// 0 for chats stored before events: their first event is 1.
    /// </summary>
    public long LastEventSeq { get; set; }

    /// <summary>The assigned commercial has read the visitor's messages up to this sequence number.</summary>
    public long ReadUpToSeq { get; set; }

    /// <summary>
    /// Read only from records stored before offers were rows: the commercials whose grain had not
    /// recorded this chat's offer yet. The chat grain records them in the offer book when it loads the record.
    /// </summary>
    public Guid[] UnrecordedOffers { get; set; } = [];

    /// <summary>
    /// Read only from records stored before messages were rows: the messages after the sealed
    /// pages. The chat grain moves them, and the sealed pages, to the message log when it loads the record.
    /// </summary>
    public ConversationMessage[] Messages { get; set; } = [];

    /// <summary>Read only from records stored before messages were rows: how many full pages of 50 were sealed into page records.</summary>
    public int SealedPages { get; set; }

    /// <summary>
    /// Set for a new chat's first write only, and only when the storage stores these rows with the
    /// record (<see cref="ChatStorageFeatures"/>); never part of the record itself.
    /// </summary>
    [JsonIgnore]
    public NewChatRows? NewChatRows { get; internal set; }

    /// <summary>Takes the new chat's rows out of the record for the write that stores them with it.</summary>
    public NewChatRows? TakeNewChatRows()
    {
        var rows = NewChatRows;
        NewChatRows = null;
        return rows;
    }

    /// <summary>
    /// A copy to go back to when a write fails. Shallow is enough: changes replace members
    /// (records, arrays), they never mutate them.
    /// </summary>
    public ChatRecord Snapshot() => (ChatRecord)MemberwiseClone();

    /// <summary>Whether the commercial was assigned to the chat in any episode.</summary>
    public bool WasAssignedTo(Guid commercialId) =>
        Value?.AssignedCommercialId == commercialId || AssignedCommercialIds.Contains(commercialId);

    public static string PageKey(Guid chatId, int pageIndex) => $"{chatId:N}/{pageIndex}";
}
