using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Chats;
using ChatGrains.Grains;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using ChatGrains.ApiGateway.Http;

namespace ChatGrains.ApiGateway.Conversations;

/// <summary>
/// <c>/hubs/livechat</c>: the real-time side of a chat. Visitors connect with their session
/// token, commercials and admins with their JWT; the README's "Real-time conversations" section
/// is the protocol. Every decision is the chat grain's; this class checks arguments and roles.
/// </summary>
[Authorize(Policy = AuthExtensions.ChatParticipantPolicy)]
public sealed class LiveChatHub(IGrainFactory grains, ConversationRelay relay, HubLimits limits, IOptions<ChatsOptions> chats) : Hub
{
    private static readonly object Registered = new();
    private static readonly object Counted = new();

    private Participant? Me => HubIdentity.ParticipantOf(Context.User);

    public override async Task OnConnectedAsync()
    {
        if (!Context.Items.ContainsKey(Counted))
        {
            // Negotiation refused most connections over the limit; this refuses those raced past it.
            if (!await limits.OpenConnectionAsync(Context.User))
            {
                Context.Abort();
                return;
            }
            Context.Items[Counted] = true;
        }
        try
        {
            await ReceiveEventsAsync();
        }
        catch
        {
            // SignalR calls no OnDisconnectedAsync after a failed OnConnectedAsync: the slot is freed here.
            Context.Items.Remove(Counted);
            await limits.CloseConnectionAsync(Context.User);
            throw;
        }
    }

    private async Task ReceiveEventsAsync()
    {
        if (Me is not { } me)
        {
            return;
        }
        // A failed connect is retried (HubAvailabilityFilter): registered once per connection.
        if (!Context.Items.ContainsKey(Registered))
        {
            // The relay delivers to the participant's group; joined before the node registers.
            await Groups.AddToGroupAsync(Context.ConnectionId, HubIdentity.UserId(me));
            await relay.ConnectedAsync(me);
            Context.Items[Registered] = true;
        }
        if (me.Role == ParticipantRole.Commercial)
        {
            // From now on visitors may offer it chats (ChatCreationLimiting).
            await grains.GetGrain<ICommercialGrain>(me.Id).SignIn();
            // Catch-up: what was offered while this commercial was away. An offer made while
            // this runs can arrive twice (live and here); clients key offers by chat id.
            foreach (var chat in await grains.GetGrain<ICommercialGrain>(me.Id).PendingOffers())
            {
                await Clients.Caller.SendAsync(HubEvents.ChatOffered, ChatResponse.From(chat));
            }
            // And what it was doing: a reloaded console shows its conversations again.
            foreach (var chat in await grains.GetGrain<ICommercialGrain>(me.Id).Chats(ChatStatus.Active))
            {
                await Clients.Caller.SendAsync(HubEvents.ChatAssigned, ChatResponse.From(chat));
            }
        }
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.ContainsKey(Counted))
        {
            await limits.CloseConnectionAsync(Context.User);
        }
        if (Me is { } me && Context.Items.ContainsKey(Registered))
        {
            await relay.DisconnectedAsync(me);
        }
    }

    /// <summary>The first accept of an offered chat wins, cluster-wide; returns the chat, now ACTIVE.</summary>
    public async Task<ChatResponse> AcceptChat(string chatId)
    {
        var id = HubArguments.Uuid("chatId", chatId);
        if (Me is not { Role: ParticipantRole.Commercial } me)
        {
            throw HubErrors.Error(HubErrors.RoleCannotAccept, "Only a commercial accepts chats; this connection's role cannot.");
        }
        var outcome = await Chat(id).Accept(me.Id);
        return outcome.Refusal is { } refusal ? throw HubErrors.For(refusal) : ChatResponse.From(outcome.Chat!);
    }

    /// <summary>Stores the message, then delivers it to both participants; a resend of <paramref name="clientMessageId"/> returns the stored one.</summary>
    public async Task<MessageResource> SendMessage(string chatId, string clientMessageId, string text)
    {
        var id = HubArguments.Uuid("chatId", chatId);
        var messageId = HubArguments.Uuid("clientMessageId", clientMessageId);
        var body = HubArguments.Text(text);
        if (Me is not { } me)
        {
            throw HubErrors.For(ConversationRefusal.NotParticipant);
        }
        if (await limits.TakeMessagePermitAsync(Context.User) is { Admitted: false } refused)
        {
            throw HubErrors.TooManyMessages(refused.NextPermitIn);
        }
        var outcome = await Chat(id).Send(new SendMessage(me, messageId, body, limits.Options.MaxMessagesWhilePending));
        return outcome.Refusal is { } refusal ? throw HubErrors.For(refusal) : MessageResource.From(id, outcome.Message!);
    }

    /// <summary>The assigned commercial has read the visitor's messages up to <paramref name="upToSeq"/>; returns the chat.</summary>
    public async Task<ChatResponse> MarkRead(string chatId, long upToSeq)
    {
        var id = HubArguments.Uuid("chatId", chatId);
        if (Me is not { Role: ParticipantRole.Commercial } me)
        {
            throw HubErrors.For(ConversationRefusal.NotParticipant);
        }
        var outcome = await Chat(id).MarkRead(me.Id, upToSeq);
        return outcome.Refusal is { } refusal ? throw HubErrors.For(refusal) : ChatResponse.From(outcome.Chat!);
    }

    /// <summary>
    /// The chat and its messages after <paramref name="afterSeq"/> (0: from the first), at most
    /// <see cref="ChatHistory.MaxMessages"/>: what a client reconnecting with its last sequence
    /// number missed. Its visitor, its assigned commercial, the commercials it is offered to while
    /// PENDING, and admins may read it; the chat grain decides, before it reads any page.
    /// </summary>
    public async Task<JoinedChat> JoinChat(string chatId, JsonElement afterSeq)
    {
        // afterSeq is taken as any JSON value: a float or a string then gets VALIDATION_FAILED,
        // where a long parameter would get SignalR's generic binding error.
        var id = HubArguments.Uuid("chatId", chatId);
        var after = HubArguments.Sequence("afterSeq", afterSeq);
        var reader = ChatReaders.Of(Context.User) ?? throw HubErrors.For(ConversationRefusal.NotParticipant);
        var history = await Chat(id).History(reader, after, ChatHistory.MaxMessages);
        return history.Refusal is { } refusal ? throw HubErrors.For(refusal) : new JoinedChat(ChatResponse.From(history.Chat!), [.. history.Messages.Select(m => MessageResource.From(id, m))], history.HasMore);
    }

    /// <summary>
    /// Closes the chat (its visitor, its assigned commercial, an admin); <paramref name="reason"/>
    /// may be null. Returns the chat, CLOSED; closing it again returns it unchanged.
    /// </summary>
    public async Task<ChatResponse> CloseChat(string chatId, string? reason)
    {
        var id = HubArguments.Uuid("chatId", chatId);
        var errors = new FieldErrors();
        var note = ChatLifecycle.CloseReason(errors, reason);
        if (!errors.IsEmpty)
        {
            throw HubErrors.Invalid(errors);
        }
        var actor = ChatLifecycle.ActorOf(Context.User) ?? throw HubErrors.For(ConversationRefusal.NotParticipant);
        return ChatResponse.From(Answer(await Chat(id).Close(actor, note)));
    }

    /// <summary>The visitor reopens its closed chat within <c>Chats:ReopenWindow</c>; returns it, PENDING again.</summary>
    public async Task<ChatResponse> ReopenChat(string chatId)
    {
        var id = HubArguments.Uuid("chatId", chatId);
        if (Me is not { Role: ParticipantRole.Visitor } me)
        {
            throw HubErrors.For(ConversationRefusal.NotParticipant);
        }
        var outcome = await Chat(id).Reopen(me.Id, chats.Value.ReopenWindow, chats.Value.MaxOpenPerVisitor);
        return ChatResponse.From(Answer(outcome));
    }

    /// <summary>The visitor rates the episode that closed last (1 … 5; <paramref name="comment"/> may be null); returns the rating.</summary>
    public async Task<RatingResource> RateChat(string chatId, JsonElement rating, string? comment)
    {
        var id = HubArguments.Uuid("chatId", chatId);
        var errors = new FieldErrors();
        var (score, text) = ChatLifecycle.Rating(errors, rating, comment);
        if (!errors.IsEmpty)
        {
            throw HubErrors.Invalid(errors);
        }
        if (Me is not { Role: ParticipantRole.Visitor } me)
        {
            throw HubErrors.For(ConversationRefusal.NotParticipant);
        }
        return RatingResource.From(Answer(await Chat(id).Rate(me.Id, score, text)).Rating)!;
    }

    private static Chat Answer(ChatOutcome outcome) => outcome.Refusal is { } refusal ? throw HubErrors.For(refusal) : outcome.Chat!;

    private IChatGrain Chat(Guid id) => grains.GetGrain<IChatGrain>(id);
}
