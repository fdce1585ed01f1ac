namespace ChatGrains.Grains;

/// <summary>
/// A live-chat session ("Suara Pendengar"), identified by a server-made id. Starting it also
/// creates the guest user it belongs to.
/// </summary>
public interface ILiveChatSessionGrain
{
    Guid SessionId { get; }

    Task<LiveChatSession> StartAsync(StartLiveChatSession command, CancellationToken cancellationToken);
}

/// <summary>Who the listener says they are, already validated at the edge.</summary>
public sealed record StartLiveChatSession(string Name, string City, string Country, TimeSpan Lifetime);

/// <summary>A guest user, created implicitly with their first session.</summary>
public sealed record GuestUser(Guid Id, string Name, string City, string Country, DateTimeOffset CreatedAt);

/// <summary>A live-chat session grain's state.</summary>
public sealed record LiveChatSession(Guid Id, GuestUser User, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>Written to the outbox in the same transaction as the session and its user.</summary>
public sealed record LiveChatSessionStarted(Guid SessionId, Guid UserId, DateTimeOffset OccurredAt, DateTimeOffset ExpiresAt);
