using Orleans.Concurrency;
namespace ChatGrains.Grains;

/// <summary>What a participant's connections are told, wherever they are connected.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ConversationEvent")]
public abstract record ConversationEvent;

/// <summary>A chat a commercial may accept (to each of its available commercials).</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatOffered")]
public sealed record ChatOffered([property: Id(0)] Chat Chat) : ConversationEvent;

/// <summary>Another commercial accepted a chat offered to this one.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatTaken")]
public sealed record ChatTaken([property: Id(0)] Guid ChatId) : ConversationEvent;

/// <summary>A commercial accepted the visitor's chat (to the visitor).</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatAccepted")]
public sealed record ChatAccepted([property: Id(0)] Chat Chat) : ConversationEvent;

/// <summary>The chat was closed (to its visitor and its assigned commercial).</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatClosed")]
public sealed record ChatClosed([property: Id(0)] Chat Chat) : ConversationEvent;

/// <summary>A chat offered to this commercial was closed before anyone accepted it.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatWithdrawn")]
public sealed record ChatWithdrawn([property: Id(0)] Guid ChatId) : ConversationEvent;

/// <summary>The visitor reopened its chat (to the visitor; its commercials get <see cref="ChatOffered"/>).</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatReopened")]
public sealed record ChatReopened([property: Id(0)] Chat Chat) : ConversationEvent;

/// <summary>The visitor rated the chat (to the commercial it was assigned to).</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatRated")]
public sealed record ChatRated([property: Id(0)] Chat Chat) : ConversationEvent;

/// <summary>The chat had no message for a while: it closes as INACTIVITY at <see cref="ClosesAt"/> unless one is sent before.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatIdle")]
public sealed record ChatIdle([property: Id(0)] Guid ChatId, [property: Id(1)] DateTimeOffset ClosesAt) : ConversationEvent;

/// <summary>A message was stored in one of the participant's chats.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.MessageReceived")]
public sealed record MessageReceived(
    [property: Id(0)] Guid ChatId,
    [property: Id(1)] ConversationMessage Message) : ConversationEvent;

/// <summary>
/// A node's delivery point: one per node, subscribed to the participant grains of the users
/// connected to it. Calls are awaited, so a participant's events from one chat arrive in order.
/// </summary>
[Alias("chatgrains.IConversationObserver")]
public interface IConversationObserver : IGrainObserver
{
    [Alias("Deliver")]
    Task Deliver(Participant recipient, ConversationEvent conversationEvent);
}

/// <summary>A participant in conversations: knows the nodes its connections are on.</summary>
[Alias("chatgrains.IParticipantGrain")]
public interface IParticipantGrain : IGrainWithGuidKey
{
    /// <summary>
    /// Registers (or refreshes) a node that has connections of this participant. A registration
    /// expires unless refreshed, so a node that died without saying so is forgotten.
    /// </summary>
    [Alias("Subscribe")]
    Task Subscribe(IConversationObserver node);

    [Alias("Unsubscribe")]
    Task Unsubscribe(IConversationObserver node);

    /// <summary>Passes the event to every registered node; returns once each has it or failed.</summary>
    [Alias("Deliver"), AlwaysInterleave]
    Task Deliver(ConversationEvent conversationEvent);
}

/// <summary>A commercial, keyed by its id (the <c>sub</c> of its token): its offers and its connections.</summary>
[Alias("chatgrains.ICommercialGrain")]
public interface ICommercialGrain : IParticipantGrain
{
    /// <summary>Records, durably, that this commercial has connected: from then on a visitor may offer it chats.</summary>
    [Alias("SignIn")]
    Task SignIn();

    /// <summary>Whether this commercial has ever signed in (reads its record; writes nothing).</summary>
    [Alias("HasSignedIn"), AlwaysInterleave]
    Task<bool> HasSignedIn();

    /// <summary>The chats offered to this commercial that are still PENDING, oldest first.</summary>
    [Alias("PendingOffers")]
    Task<Chat[]> PendingOffers();

    /// <summary>Records, durably, that a chat was assigned to this commercial (it accepted it).</summary>
    [Alias("ChatAssigned")]
    Task ChatAssigned(Guid chatId);

    /// <summary>Records, durably, that a chat assigned to this commercial closed.</summary>
    [Alias("ChatClosed")]
    Task ChatClosed(Guid chatId);

    /// <summary>
    /// Its chats as they are now, newest change first: offered and still PENDING, assigned and
    /// ACTIVE, and the last 100 closed while assigned to it; <paramref name="status"/> picks one kind.
    /// </summary>
    [Alias("Chats")]
    Task<Chat[]> Chats(ChatStatus? status);
}
