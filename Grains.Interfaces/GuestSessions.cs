using System.Text.Json.Serialization;

namespace ChatGrains.Grains;

/// <summary>A guest chat session, identified by the client's <c>session_id</c>.</summary>
public interface IGuestSessionGrain
{
    string SessionKey { get; }

    /// <summary>Opens the session unless it exists; either way returns it as first stored, with its messages.</summary>
    Task<GuestSessionOpening> OpenAsync(OpenGuestSession command, CancellationToken cancellationToken);
}

[JsonConverter(typeof(JsonStringEnumConverter<GuestSessionStatus>))]
public enum GuestSessionStatus
{
    [JsonStringEnumMemberName("active")] Active,
    [JsonStringEnumMemberName("closed")] Closed,
}

/// <summary>What the guest told about itself; every field is optional.</summary>
public sealed record OpenGuestSession(string? GuestName, string? GuestEmail, string? GuestPhone);

/// <summary>A guest session grain's state. <see cref="Id"/> is server-made, <see cref="SessionKey"/> the client's.</summary>
public sealed record GuestSession(
    Guid Id,
    string SessionKey,
    string? GuestName,
    string? GuestEmail,
    string? GuestPhone,
    GuestSessionStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>A message of a session, oldest first.</summary>
public sealed record ChatMessage(long Id, string Sender, string Body, DateTimeOffset CreatedAt);

/// <summary>The outcome of open-or-get: <see cref="Created"/> is false when the session already existed.</summary>
public sealed record GuestSessionOpening(GuestSession Session, IReadOnlyList<ChatMessage> Messages, bool Created);

/// <summary>Written to the outbox in the same transaction as the session row.</summary>
public sealed record GuestSessionStarted(Guid SessionId, string SessionKey, DateTimeOffset OccurredAt);
