using System.Text.Json;
using System.Text.Json.Serialization;
using ChatGrains.ApiGateway.Chats;
using ChatGrains.ApiGateway.Conversations;
using ChatGrains.ApiGateway.GuestSessions;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.Extensions.Options;
using Orleans.Serialization;

namespace ChatGrains.ApiGateway.Events;

/// <summary>
/// An event as the feed (and webhooks) deliver it. <c>data</c> is the resource as the API returns
/// it: the chat as <c>PUT /v2/chats</c> does, the message as the hub sends it, the guest session
/// as <c>POST /api/v1/chat/guest/session</c> does, the live-chat session without its token. It is
/// that resource's object, serialized by its runtime type along with the envelope (no
/// intermediate JSON document per event).
/// </summary>
public sealed record EventEnvelope(
    Guid Id,
    string Type,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset OccurredAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Guid? ChatId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ChatSeq,
    object Data);

/// <summary><c>data</c> of <c>livechat_session.started</c>: the session and its guest user (never the session token).</summary>
public sealed record LiveChatSessionStartedData(
    Guid SessionId,
    Guid UserId,
    string Name,
    string City,
    string Country,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset ExpiresAt);

/// <summary>
/// Turns stored events into envelopes. The log keeps each change's record value as the grain
/// storage wrote it, so it is read with the storage's JSON options and shown through the same
/// resource types the APIs answer with.
/// </summary>
public sealed class EventEnvelopes(IOptions<SystemTextJsonGrainStorageSerializerOptions> storage)
{
    private readonly JsonSerializerOptions _stored = storage.Value.JsonSerializerOptions;

    public EventEnvelope From(StoredEvent stored) =>
        new(stored.Id, stored.Type, stored.OccurredAt, stored.ChatId, stored.ChatSeq, Data(stored));

    private object Data(StoredEvent stored) => stored.Type switch
    {
        EventTypes.MessageCreated => MessageResource.From(stored.ChatId!.Value, Read<ConversationMessage>(stored)),
        EventTypes.GuestSessionStarted => ChatSessionResource.From(Read<GuestConversation>(stored).Session),
        EventTypes.LiveChatSessionStarted => LiveChat(Read<LiveChatSession>(stored)),
        _ => ChatResponse.From(Read<Chat>(stored)),
    };

    private T Read<T>(StoredEvent stored) =>
        JsonSerializer.Deserialize<T>(stored.Data, _stored) ?? throw new JsonException($"Event {stored.Id} has no data.");

    private static LiveChatSessionStartedData LiveChat(LiveChatSession session) =>
        new(session.Id, session.User.Id, session.User.Name, session.User.City, session.User.Country, session.ExpiresAt);
}
