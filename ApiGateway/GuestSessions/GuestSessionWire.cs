using System.Text.Json.Serialization;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.GuestSessions;

/// <summary>The body of <c>POST /api/v1/chat/guest/session</c>.</summary>
/// <param name="SessionId">The client's key for the session: a UUID (8-4-4-4-12 hex digits, any letter case), best a random
/// (version 4) one, since a replay of it returns the stored session. Letter case does not make another session; responses
/// give it in lower case.</param>
/// <param name="GuestName">The guest's display name, up to 100 characters.</param>
/// <param name="GuestEmail">The guest's e-mail address.</param>
/// <param name="GuestPhone">The guest's phone number.</param>
/// <param name="CaptchaToken">The captcha widget's response token, required only when the node's <c>Captcha:Endpoints</c> include <c>guest-session</c>.</param>
public sealed record GuestSessionRequest(
    [property: JsonPropertyName("session_id")] string? SessionId,
    [property: JsonPropertyName("guest_name")] string? GuestName,
    [property: JsonPropertyName("guest_email")] string? GuestEmail,
    [property: JsonPropertyName("guest_phone")] string? GuestPhone,
    [property: JsonPropertyName("captcha_token")] string? CaptchaToken = null)
{
    /// <summary>Checks every field; returns the session key and command when all are valid.</summary>
    public (string SessionKey, OpenGuestSession Command)? ToCommand(FieldErrors errors)
    {
        // The session id is the grain key and, on a replay, the only thing that returns a stored
        // session (name, e-mail): a UUID, not a guessable word. Canonical like chat ids, so
        // "3F8A…" and "3f8a…" are one session.
        var key = errors.Uuid("session_id", SessionId).ToString("D");
        var command = new OpenGuestSession(
            GuestName: errors.Text("guest_name", GuestName, maxLength: 100),
            GuestEmail: errors.Email("guest_email", GuestEmail, required: false),
            GuestPhone: errors.Phone("guest_phone", GuestPhone));
        return errors.IsEmpty ? (key, command) : null;
    }
}

/// <summary><c>data</c> of a successful response.</summary>
public sealed record GuestSessionData(
    [property: JsonPropertyName("session")] ChatSessionResource Session,
    [property: JsonPropertyName("messages")] IReadOnlyList<ChatMessageResource> Messages)
{
    public static GuestSessionData From(GuestSessionOpening opening) =>
        new(ChatSessionResource.From(opening.Session), [.. opening.Messages.Select(ChatMessageResource.From)]);
}

/// <summary>A guest chat session: <c>id</c> is the server's, <c>session_id</c> the client's.</summary>
public sealed record ChatSessionResource(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("session_id")] string SessionId,
    [property: JsonPropertyName("guest_name")] string? GuestName,
    [property: JsonPropertyName("guest_email")] string? GuestEmail,
    [property: JsonPropertyName("guest_phone")] string? GuestPhone,
    [property: JsonPropertyName("status")] GuestSessionStatus Status,
    [property: JsonPropertyName("created_at"), JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at"), JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset UpdatedAt)
{
    public static ChatSessionResource From(GuestSession session) => new(
        session.Id, session.SessionKey, session.GuestName, session.GuestEmail, session.GuestPhone,
        session.Status, session.CreatedAt, session.UpdatedAt);
}

/// <summary>
/// A message of the session's conversation (the chat whose id is the session's <c>id</c>):
/// <c>id</c> is its sequence number in the chat, <c>sender</c> <c>visitor</c> or <c>commercial</c>.
/// </summary>
public sealed record ChatMessageResource(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("sender")] ParticipantRole Sender,
    [property: JsonPropertyName("body")] string Body,
    [property: JsonPropertyName("created_at"), JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset CreatedAt)
{
    public static ChatMessageResource From(ConversationMessage message) => new(message.Seq, message.SenderRole, message.Text, message.SentAt);
}
