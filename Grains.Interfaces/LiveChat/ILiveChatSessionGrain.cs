namespace ChatGrains.Grains;

/// <summary>
/// A live-chat session ("Suara Pendengar"), keyed by a server-made id. Starting it also
/// creates the guest user it belongs to.
/// </summary>
[Alias("chatgrains.ILiveChatSessionGrain")]
public interface ILiveChatSessionGrain : IGrainWithGuidKey
{
    /// <summary>Starts the session unless it was started; either way returns it as stored.</summary>
    [Alias("Start")]
    Task<LiveChatSession> Start(StartLiveChatSession command);
}

/// <summary>Who the listener says they are, already validated at the edge.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.StartLiveChatSession")]
public sealed record StartLiveChatSession(
    [property: Id(0)] string Name,
    [property: Id(1)] string City,
    [property: Id(2)] string Country,
    [property: Id(3)] TimeSpan Lifetime);

/// <summary>A guest user, created implicitly with their first session.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.GuestUser")]
public sealed record GuestUser(
    [property: Id(0)] Guid Id,
    [property: Id(1)] string Name,
    [property: Id(2)] string City,
    [property: Id(3)] string Country,
    [property: Id(4)] DateTimeOffset CreatedAt);

/// <summary>A live-chat session as stored.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.LiveChatSession")]
public sealed record LiveChatSession(
    [property: Id(0)] Guid Id,
    [property: Id(1)] GuestUser User,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset ExpiresAt);

