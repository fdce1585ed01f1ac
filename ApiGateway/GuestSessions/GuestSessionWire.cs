using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.GuestSessions;

/// <summary>The body of <c>POST /api/v1/chat/guest/session</c>.</summary>
public sealed partial record GuestSessionRequest(
    [property: JsonPropertyName("session_id")] string? SessionId,
    [property: JsonPropertyName("guest_name")] string? GuestName,
    [property: JsonPropertyName("guest_email")] string? GuestEmail,
    [property: JsonPropertyName("guest_phone")] string? GuestPhone)
{
    public const int MinSessionIdLength = 8;
    public const int MaxSessionIdLength = 128;

    /// <summary>Checks every field; returns the session key and command when all are valid.</summary>
    public (string SessionKey, OpenGuestSession Command)? ToCommand(FieldErrors errors)
    {
        var key = SessionKey(errors);
        var command = new OpenGuestSession(
            GuestName: errors.Text("guest_name", GuestName, maxLength: 100),
            GuestEmail: errors.Email("guest_email", GuestEmail, required: false),
            GuestPhone: errors.Phone("guest_phone", GuestPhone));
        return errors.IsEmpty ? (key!, command) : null;
    }

    /// <summary>
    /// The session id is the grain key and, on a replay, the only thing that returns a stored
    /// session: it must be long enough not to be guessed, and of a safe character set.
    /// </summary>
    private string? SessionKey(FieldErrors errors)
    {
        const string field = "session_id";
        if (string.IsNullOrEmpty(SessionId))
        {
            errors.Add(field, $"'{field}' is required.");
            return null;
        }
        if (SessionId.Length is < MinSessionIdLength or > MaxSessionIdLength)
        {
            errors.Add(field, $"'{field}' must be {MinSessionIdLength} to {MaxSessionIdLength} characters long.");
            return null;
        }
        if (!SafeSessionId().IsMatch(SessionId))
        {
            errors.Add(field, $"'{field}' may only contain letters, digits and . _ : -");
            return null;
        }
        return SessionId;
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex SafeSessionId();
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

public sealed record ChatMessageResource(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("sender")] string Sender,
    [property: JsonPropertyName("body")] string Body,
    [property: JsonPropertyName("created_at"), JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset CreatedAt)
{
    public static ChatMessageResource From(ChatMessage message) => new(message.Id, message.Sender, message.Body, message.CreatedAt);
}
