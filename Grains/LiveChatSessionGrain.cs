namespace ChatGrains.Grains;

/// <summary>Live-chat session state as the storage provider keeps it (SQL per provider lives in Silo).</summary>
public interface ILiveChatSessionStore
{
    /// <summary>Inserts the guest user, the session and its event in one transaction.</summary>
    Task InsertAsync(LiveChatSession session, LiveChatSessionStarted started, CancellationToken cancellationToken);
}

public sealed class LiveChatSessionGrain(Guid sessionId, ILiveChatSessionStore store, GrainCreations creations, TimeProvider clock) : ILiveChatSessionGrain
{
    public Guid SessionId => sessionId;

    public async Task<LiveChatSession> StartAsync(StartLiveChatSession command, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(clock.GetUtcNow().ToUnixTimeSeconds());
        var user = new GuestUser(Guid.CreateVersion7(now), command.Name, command.City, command.Country, now);
        var session = new LiveChatSession(sessionId, user, now, now + command.Lifetime);
        await store.InsertAsync(session, new LiveChatSessionStarted(sessionId, user.Id, now, session.ExpiresAt), cancellationToken);
        creations.LiveChatSession();
        return session;
    }
}
