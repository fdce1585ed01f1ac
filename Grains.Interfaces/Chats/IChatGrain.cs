using Orleans.Concurrency;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatGrains.Grains;

/// <summary>A chat: one conversation, keyed by the client-chosen <c>chatId</c>.</summary>
[Alias("chatgrains.IChatGrain")]
public interface IChatGrain : IGrainWithGuidKey
{
    /// <summary>Creates the chat unless it exists; either way returns the chat as stored.</summary>
    [Alias("CreateOrGet")]
    Task<ChatCreation> CreateOrGet(CreateChat command);

    /// <summary>
    /// Returns the chat if it exists, consulting nothing else; otherwise creates it only if it
    /// passes <paramref name="limits"/> (rate limits first, then the visitor's cap).
    /// </summary>
    [Alias("Open")]
    Task<ChatOpening> Open(CreateChat command, ChatCreationLimits limits);

    /// <summary>The chat as it is now, or null when it does not exist.</summary>
    [Alias("Current"), AlwaysInterleave]
    Task<Chat?> Current();

    /// <summary>
    /// The first accept by one of the chat's available commercials wins: the chat becomes ACTIVE,
    /// assigned to it. Accepting again by the winner returns the chat unchanged.
    /// </summary>
    [Alias("Accept")]
    Task<ChatOutcome> Accept(Guid commercialId);

    /// <summary>
    /// Stores the message (by the chat's visitor, or its assigned commercial) with the next
    /// sequence number, then delivers it to both participants. A resend of a client message id
    /// returns the stored message and delivers nothing again.
    /// </summary>
    [Alias("Send")]
    Task<MessageOutcome> Send(SendMessage command);

    /// <summary>The assigned commercial has read the visitor's messages up to <paramref name="upToSeq"/>.</summary>
    [Alias("MarkRead")]
    Task<ChatOutcome> MarkRead(Guid commercialId, long upToSeq);

    /// <summary>
    /// Up to <paramref name="max"/> messages (never more than <see cref="ChatHistory.MaxMessages"/>)
    /// after <paramref name="afterSeq"/>, oldest first, with the chat — if <paramref name="reader"/>
    /// may read it, which is decided before any page is read. An <paramref name="afterSeq"/>
    /// outside 0 … the chat's total is refused (<see cref="ConversationRefusal.OutOfRange"/>).
    /// </summary>
    [Alias("HistoryFor"), AlwaysInterleave]
    Task<ChatHistory> History(ChatReader reader, long afterSeq, int max);

    /// <summary>
    /// A page of the chat's transcript: like <see cref="History"/>, up to
    /// <see cref="ChatHistory.MaxTranscriptMessages"/>, for its visitor, every commercial it was
    /// ever assigned to, and admins.
    /// </summary>
    [Alias("Transcript"), AlwaysInterleave]
    Task<ChatHistory> Transcript(ChatReader reader, long afterSeq, int max);

    /// <summary>The chat's last <paramref name="max"/> messages, oldest first.</summary>
    [Alias("Recent"), AlwaysInterleave]
    Task<ConversationMessage[]> Recent(int max);

    /// <summary>
    /// Closes the chat: by its visitor, its assigned commercial (once ACTIVE) or an admin. A
    /// PENDING chat's offers are withdrawn. Closing a closed chat answers it unchanged.
    /// </summary>
    [Alias("Close")]
    Task<ChatOutcome> Close(ChatActor by, string? note);

    /// <summary>
    /// The visitor opens its closed chat again, within <paramref name="window"/> of the close: a
    /// new episode, PENDING and offered again, counted against <paramref name="maxOpenPerVisitor"/>.
    /// Reopening a chat already reopened (and not closed since) answers it unchanged.
    /// </summary>
    [Alias("Reopen")]
    Task<ChatOutcome> Reopen(Guid visitorId, TimeSpan window, int? maxOpenPerVisitor);

    /// <summary>The visitor rates the episode that closed last, once.</summary>
    [Alias("Rate")]
    Task<ChatOutcome> Rate(Guid visitorId, int score, string? comment);

    /// <summary>
    /// Asked when the chat's deadline has come (by a node's timeout sweep): closes it as
    /// UNANSWERED or INACTIVITY when its time is up, warns its participants before an inactivity
    /// close, and sets its next deadline. Asking again changes nothing.
    /// </summary>
    [Alias("CheckTimeouts")]
    Task CheckTimeouts();
}

/// <summary>Who changed a chat's state: <see cref="Id"/> is the visitor's, commercial's or admin's subject; null for the system.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatActor")]
public sealed record ChatActor(
    [property: Id(0)] ChatActorRole Role,
    [property: Id(1)] string? Id)
{
    public static ChatActor System { get; } = new(ChatActorRole.System, null);
}

[JsonConverter(typeof(JsonStringEnumConverter<ChatActorRole>))]
[GenerateSerializer, Alias("chatgrains.ChatActorRole")]
public enum ChatActorRole
{
    [JsonStringEnumMemberName("visitor")] Visitor,
    [JsonStringEnumMemberName("commercial")] Commercial,
    [JsonStringEnumMemberName("admin")] Admin,
    [JsonStringEnumMemberName("system")] System,
}

/// <summary>Why a chat closed.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CloseReason>))]
[GenerateSerializer, Alias("chatgrains.CloseReason")]
public enum CloseReason
{
    [JsonStringEnumMemberName("VISITOR")] Visitor,
    [JsonStringEnumMemberName("COMMERCIAL")] Commercial,
    [JsonStringEnumMemberName("ADMIN")] Admin,
    [JsonStringEnumMemberName("INACTIVITY")] Inactivity,
    [JsonStringEnumMemberName("UNANSWERED")] Unanswered,
}

/// <summary>The visitor's rating of an episode: 1 … 5, and an optional comment.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatRating")]
public sealed record ChatRating(
    [property: Id(0)] int Score,
    [property: Id(1)] string? Comment,
    [property: Id(2)] int Episode,
    [property: Id(3)] DateTimeOffset RatedAt);

[JsonConverter(typeof(JsonStringEnumConverter<ChatStatus>))]
[GenerateSerializer, Alias("chatgrains.ChatStatus")]
public enum ChatStatus
{
    [JsonStringEnumMemberName("PENDING")] Pending,
    /// <summary>A commercial accepted it; stored as 1, which an earlier version called ASSIGNED and never set.</summary>
    [JsonStringEnumMemberName("ACTIVE")] Active,
    [JsonStringEnumMemberName("CLOSED")] Closed,
}

[JsonConverter(typeof(JsonStringEnumConverter<ChatPriority>))]
[GenerateSerializer, Alias("chatgrains.ChatPriority")]
public enum ChatPriority
{
    [JsonStringEnumMemberName("LOW")] Low,
    [JsonStringEnumMemberName("NORMAL")] Normal,
    [JsonStringEnumMemberName("HIGH")] High,
    [JsonStringEnumMemberName("URGENT")] Urgent,
}

/// <summary>Who opened the chat. Everything but name and e-mail is optional.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.Visitor")]
public sealed record Visitor(
    [property: Id(0)] string Name,
    [property: Id(1)] string Email,
    [property: Id(2)] string? Phone = null,
    [property: Id(3)] string? Company = null,
    [property: Id(4)] string? IpAddress = null,
    [property: Id(5)] string? Country = null,
    [property: Id(6)] string? City = null,
    [property: Id(7)] string? Referrer = null,
    [property: Id(8)] string? UserAgent = null);

/// <summary>
/// Where the chat came from; carried as sent. Collections are concrete types: the Orleans
/// serializer needs a codec for the runtime type, which a collection expression may not have.
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatMetadata")]
public sealed record ChatMetadata(
    [property: Id(0)] string? Department = null,
    [property: Id(1)] string? Product = null,
    [property: Id(2)] string? Source = null,
    [property: Id(3)] string? Campaign = null,
    [property: Id(4)] string? UtmSource = null,
    [property: Id(5)] string? UtmMedium = null,
    [property: Id(6)] string? UtmCampaign = null,
    [property: Id(7)] string? InitialUrl = null)
{
    [Id(8)]
    public string[] Tags { get; init; } = [];

    [Id(9)]
    public Dictionary<string, JsonElement> CustomFields { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>The request to open a chat, already validated at the edge.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.CreateChat")]
public sealed record CreateChat(
    [property: Id(0)] Guid VisitorId,
    [property: Id(1)] Visitor Visitor,
    [property: Id(2)] Guid[] AvailableCommercialIds,
    [property: Id(3)] ChatPriority Priority,
    [property: Id(4)] ChatMetadata Metadata);

/// <summary>
/// A chat as stored: the chat grain's state. A chat lives in episodes: closing ends one (the
/// <c>Closed*</c> members say how), reopening starts the next; <see cref="Rating"/> is the
/// visitor's rating of the episode that closed last, null until it rates it.
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.Chat")]
public sealed record Chat(
    [property: Id(0)] Guid Id,
    [property: Id(1)] ChatStatus Status,
    [property: Id(2)] ChatPriority Priority,
    [property: Id(3)] Guid VisitorId,
    [property: Id(4)] Guid? AssignedCommercialId,
    [property: Id(5)] Guid[] AvailableCommercialIds,
    [property: Id(6)] int TotalMessages,
    [property: Id(7)] int UnreadMessagesCount,
    [property: Id(8)] bool IsActive,
    [property: Id(9)] Visitor Visitor,
    [property: Id(10)] ChatMetadata Metadata,
    [property: Id(11)] DateTimeOffset CreatedAt,
    [property: Id(12)] DateTimeOffset UpdatedAt,
    [property: Id(13)] DateTimeOffset? ClosedAt = null,
    [property: Id(14)] ChatActor? ClosedBy = null,
    [property: Id(15)] CloseReason? CloseReason = null,
    [property: Id(16)] string? CloseNote = null,
    [property: Id(17)] int Episode = 1,
    [property: Id(18)] ChatRating? Rating = null);

/// <summary>The outcome of create-or-get: <see cref="Created"/> is false when the chat already existed.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatCreation")]
public sealed record ChatCreation([property: Id(0)] Chat Chat, [property: Id(1)] bool Created);

