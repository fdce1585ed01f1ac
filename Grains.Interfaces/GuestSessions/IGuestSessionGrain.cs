using System.Text.Json.Serialization;

namespace ChatGrains.Grains;

/// <summary>A guest chat session, keyed by the client's <c>session_id</c>.</summary>
[Alias("chatgrains.IGuestSessionGrain")]
public interface IGuestSessionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Opens the session unless it exists; either way returns it as stored, with the last
    /// messages of its conversation (oldest first).
    /// </summary>
    [Alias("Open")]
    Task<GuestSessionOpening> Open(OpenGuestSession command);
}

[JsonConverter(typeof(JsonStringEnumConverter<GuestSessionStatus>))]
[GenerateSerializer, Alias("chatgrains.GuestSessionStatus")]
public enum GuestSessionStatus
{
    [JsonStringEnumMemberName("active")] Active,
    [JsonStringEnumMemberName("closed")] Closed,
}

/// <summary>What the guest told about itself; every field is optional.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.OpenGuestSession")]
public sealed record OpenGuestSession(
    [property: Id(0)] string? GuestName,
    [property: Id(1)] string? GuestEmail,
    [property: Id(2)] string? GuestPhone);

/// <summary>A guest session as stored. <see cref="Id"/> is server-made, <see cref="SessionKey"/> the client's.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.GuestSession")]
public sealed record GuestSession(
    [property: Id(0)] Guid Id,
    [property: Id(1)] string SessionKey,
    [property: Id(2)] string? GuestName,
    [property: Id(3)] string? GuestEmail,
    [property: Id(4)] string? GuestPhone,
    [property: Id(5)] GuestSessionStatus Status,
    [property: Id(6)] DateTimeOffset CreatedAt,
    [property: Id(7)] DateTimeOffset UpdatedAt);

/// <summary>
/// A guest session's record. Its conversation is the chat whose id is the session's <c>Id</c>
/// (server-made, so only the session's holder knows it); records from before conversations
/// carried an always-empty message list, which reading ignores.
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.GuestConversation")]
public sealed record GuestConversation([property: Id(0)] GuestSession Session);

/// <summary>The outcome of open-or-get: <see cref="Created"/> is false when the session already existed.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.GuestSessionOpening")]
public sealed record GuestSessionOpening(
    [property: Id(0)] GuestSession Session,
    [property: Id(1)] ConversationMessage[] Messages,
    [property: Id(2)] bool Created);

