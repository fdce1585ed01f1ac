using Microsoft.Extensions.Options;
using Orleans.Placement;

namespace ChatGrains.Grains;

/// <summary>
/// One guest session, keyed by the client's <c>session_id</c>. Its conversation is the chat whose
/// id is the session's server-made <c>id</c> (see <see cref="GuestConversation"/>).
/// </summary>
[PreferLocalPlacement]
public sealed class GuestSessionGrain(
    [PersistentState(GrainStorage.GuestSession, GrainStorage.Name)] IPersistentState<SessionRecord<GuestConversation>> state,
    IOptions<SessionOptions> sessions,
    GrainMetrics metrics,
    TimeProvider clock) : Grain, IGuestSessionGrain
{
    /// <summary>How many of the conversation's last messages a session carries; the hub pages through the rest.</summary>
    public const int MaxMessages = 100;

    public async Task<GuestSessionOpening> Open(OpenGuestSession command)
    {
        var (conversation, created) = await state.OpenAsync(
            () => NewConversation(command), stored => stored.Session.CreatedAt, EventTypes.GuestSessionStarted, sessions.Value, clock.GetUtcNow());
        var session = conversation.Session;
        if (created)
        {
            metrics.Created(GrainStorage.GuestSession);
            metrics.EventStored(EventTypes.GuestSessionStarted);
            DeactivateOnIdle(); // GrainLifetimes: a new session is rarely called again soon
        }
        // A new session's conversation cannot have started: only the session's holder knows its id.
        ConversationMessage[] messages = created ? [] : await GrainFactory.GetGrain<IChatGrain>(session.Id).Recent(MaxMessages);
        return new GuestSessionOpening(session, messages, created);
    }

    private GuestConversation NewConversation(OpenGuestSession command)
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds());
        return new GuestConversation(new GuestSession(
            Id: Guid.CreateVersion7(now),
            SessionKey: this.GetPrimaryKeyString(),
            GuestName: command.GuestName,
            GuestEmail: command.GuestEmail,
            GuestPhone: command.GuestPhone,
            Status: GuestSessionStatus.Active,
            CreatedAt: now,
            UpdatedAt: now));
    }
}
