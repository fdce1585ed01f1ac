using System.Text.Json.Serialization;

namespace ChatGrains.Grains;

/// <summary>The two sides of a conversation.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ParticipantRole>))]
[GenerateSerializer, Alias("chatgrains.ParticipantRole")]
public enum ParticipantRole
{
    [JsonStringEnumMemberName("visitor")] Visitor,
    [JsonStringEnumMemberName("commercial")] Commercial,
}

/// <summary>Who is acting: a visitor (by its visitor id) or a commercial (by its commercial id).</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.Participant")]
public sealed record Participant(
    [property: Id(0)] ParticipantRole Role,
    [property: Id(1)] Guid Id);

/// <summary>
/// A stored message of a chat. <see cref="Seq"/> numbers a chat's messages from 1 without gaps;
/// <see cref="Id"/> is the sender's client message id, which makes a resend idempotent.
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ConversationMessage")]
public sealed record ConversationMessage(
    [property: Id(0)] long Seq,
    [property: Id(1)] Guid Id,
    [property: Id(2)] ParticipantRole SenderRole,
    [property: Id(3)] Guid SenderId,
    [property: Id(4)] string Text,
    [property: Id(5)] DateTimeOffset SentAt);

/// <summary>
/// A message to store, already validated at the edge. The visitor may store at most
/// <paramref name="MaxWhilePending"/> messages while nobody has accepted the chat.
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.SendMessage")]
public sealed record SendMessage(
    [property: Id(0)] Participant Sender,
    [property: Id(1)] Guid ClientMessageId,
    [property: Id(2)] string Text,
    [property: Id(3)] int MaxWhilePending);

/// <summary>Why a conversation call was refused; the hub turns each into its error code.</summary>
[GenerateSerializer, Alias("chatgrains.ConversationRefusal")]
public enum ConversationRefusal
{
    /// <summary>No chat has this id.</summary>
    NotFound,

    /// <summary>The commercial is not among the chat's available commercials.</summary>
    NotOffered,

    /// <summary>Another commercial accepted the chat first.</summary>
    AlreadyTaken,

    /// <summary>The caller is neither the chat's visitor nor its assigned commercial.</summary>
    NotParticipant,

    /// <summary>The chat is closed.</summary>
    Closed,

    /// <summary>The client message id is a stored message of another sender.</summary>
    MessageIdInUse,

    /// <summary>A sequence number outside 0 … the chat's total.</summary>
    OutOfRange,

    /// <summary>The visitor wrote as much as a chat nobody accepted may hold.</summary>
    AwaitingAgent,

    /// <summary>Reopening or rating a chat that is not closed.</summary>
    NotClosed,

    /// <summary>Reopening a chat closed longer ago than the reopen window.</summary>
    ReopenWindowPassed,

    /// <summary>Rating an episode already rated.</summary>
    AlreadyRated,

    /// <summary>Reopening would take the visitor past its cap of open chats.</summary>
    VisitorAtCap,
}

/// <summary>A chat after a conversation call, or why the call was refused.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatOutcome")]
public sealed record ChatOutcome(
    [property: Id(0)] Chat? Chat,
    [property: Id(1)] ConversationRefusal? Refusal);

/// <summary>
/// The stored message (the original one when the client message id was seen before, then
/// <see cref="Duplicate"/> is true), or why it was refused.
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.MessageOutcome")]
public sealed record MessageOutcome(
    [property: Id(0)] ConversationMessage? Message,
    [property: Id(1)] bool Duplicate,
    [property: Id(2)] ConversationRefusal? Refusal);

/// <summary>
/// A page of a chat's messages, oldest first; <see cref="HasMore"/> when later ones exist. The
/// chat is null when it does not exist or the call was refused (<see cref="Refusal"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatHistory")]
public sealed record ChatHistory(
    [property: Id(0)] Chat? Chat,
    [property: Id(1)] ConversationMessage[] Messages,
    [property: Id(2)] bool HasMore,
    [property: Id(3)] ConversationRefusal? Refusal = null)
{
    /// <summary>The most messages one call returns, whatever it asks: it bounds the pages one call reads.</summary>
    public const int MaxMessages = 200;

    /// <summary>The most messages one transcript page holds.</summary>
    public const int MaxTranscriptMessages = 500;
}

/// <summary>Who asks to read a chat's history: a participant, or an admin (who may read every chat).</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatReader")]
public sealed record ChatReader(
    [property: Id(0)] Participant? Participant,
    [property: Id(1)] bool IsAdmin)
{
    public static ChatReader Of(Participant participant) => new(participant, IsAdmin: false);

    public static ChatReader Admin { get; } = new(null, IsAdmin: true);

    /// <summary>
    /// The one rule for reading a chat (its history through the hub, its visitor's contact details
    /// through a <c>PUT /v2/chats</c> replay): its visitor, its assigned commercial, the commercials
    /// it is offered to while PENDING, and admins.
    /// </summary>
    public bool MayRead(Chat chat) => Participant switch
    {
        { Role: ParticipantRole.Visitor } visitor => chat.VisitorId == visitor.Id,
        { Role: ParticipantRole.Commercial } commercial => chat.AssignedCommercialId == commercial.Id
            || (chat.Status == ChatStatus.Pending && chat.AvailableCommercialIds.Contains(commercial.Id)),
        _ => IsAdmin,
    };
}

/// <summary>A sealed page of a chat's messages (see <c>ChatRecord</c>).</summary>
[Alias("chatgrains.IChatHistoryPageGrain")]
public interface IChatHistoryPageGrain : IGrainWithStringKey
{
    [Alias("Store")]
    Task Store(ConversationMessage[] messages);

    [Alias("Read")]
    Task<ConversationMessage[]> Read();
}
