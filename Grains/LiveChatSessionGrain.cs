using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace ChatGrains.Grains;

/// <summary>One live-chat session with the guest user it created, keyed by a server-made id.</summary>
[PreferLocalPlacement]
public sealed class LiveChatSessionGrain(
    [PersistentState(GrainStorage.LiveChatSession, GrainStorage.Name)] IPersistentState<SessionRecord<LiveChatSession>> state,
    IOptions<SessionOptions> sessions,
    GrainMetrics metrics,
    TimeProvider clock) : Grain, ILiveChatSessionGrain
{
    public async Task<LiveChatSession> Start(StartLiveChatSession command)
    {
        var (session, created) = await state.OpenAsync(
            () => NewSession(command), stored => stored.CreatedAt, EventTypes.LiveChatSessionStarted, sessions.Value, clock.GetUtcNow());
        if (created)
        {
            metrics.Created(GrainStorage.LiveChatSession);
            metrics.EventStored(EventTypes.LiveChatSessionStarted);
            DeactivateOnIdle(); // GrainLifetimes: a new session is rarely called again soon
        }
        return session;
    }

    private LiveChatSession NewSession(StartLiveChatSession command)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(clock.GetUtcNow().ToUnixTimeSeconds());
        var user = new GuestUser(Guid.CreateVersion7(now), command.Name, command.City, command.Country, now);
        return new LiveChatSession(this.GetPrimaryKey(), user, now, now + command.Lifetime);
    }
}
