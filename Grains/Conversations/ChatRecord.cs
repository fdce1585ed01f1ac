namespace ChatGrains.Grains;

/// <summary>
/// A chat grain's state: the chat and the end of its conversation. The conversation is kept in
/// pages of <see cref="PageSize"/> messages: the last, open page here, every full one sealed
/// into its own record (<see cref="IChatHistoryPageGrain"/>), so a write of this record stays
/// small however long the chat gets. Records from before conversations read as an empty one.
/// </summary>
public sealed class ChatRecord : CreatedOnce<Chat>
{
    public const int PageSize = 50;

    /// <summary>The messages after the sealed pages, oldest first: fewer than <see cref="PageSize"/> plus one.</summary>
    public ConversationMessage[] Messages { get; set; } = [];

    /// <summary>How many full pages are sealed: messages 1 … SealedPages × PageSize.</summary>
    public int SealedPages { get; set; }

    /// <summary>The client message ids of the last sealed page, so a resend is recognised there too.</summary>
    public Guid[] LastSealedIds { get; set; } = [];

    /// <summary>The assigned commercial has read the visitor's messages up to this sequence number.</summary>
    public long ReadUpToSeq { get; set; }

    /// <summary>
    /// Read only from records stored before offers were rows: the commercials whose grain had not
    /// recorded this chat's offer yet. The chat grain records them in the offer book when activated.
    /// </summary>
    public Guid[] UnrecordedOffers { get; set; } = [];

    /// <summary>The sequence number of the first message kept here.</summary>
    public long FirstOpenSeq => (long)SealedPages * PageSize + 1;

    /// <summary>
    /// A copy to go back to when a write fails. Shallow is enough: changes replace members
    /// (records, arrays), they never mutate them.
    /// </summary>
    public ChatRecord Snapshot() => (ChatRecord)MemberwiseClone();

    public static string PageKey(Guid chatId, int pageIndex) => $"{chatId:N}/{pageIndex}";

    public static int PageOf(long seq) => (int)((seq - 1) / PageSize);
}
