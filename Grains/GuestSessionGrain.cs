using Microsoft.Extensions.Logging;
using Orleans.Placement;

namespace ChatGrains.Grains;

/// <summary>One guest session, keyed by the client's <c>session_id</c>.</summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed class GuestSessionGrain(
    [PersistentState(GrainStorage.GuestSession, GrainStorage.Name)] IPersistentState<CreatedOnce<GuestSession>> state,
    GrainCreations creations,
    TimeProvider clock,
    ILogger<GuestSessionGrain> logger) : Grain, IGuestSessionGrain
{
    public async Task<GuestSessionOpening> Open(OpenGuestSession command)
    {
        var (session, created) = await state.GetOrCreateAsync(() => NewSession(command));
        if (created)
        {
            creations.GuestSession();
            await this.PublishAsync(StreamId.Create(EventStreams.GuestSessionStarted, session.SessionKey),
                new GuestSessionStarted(session.Id, session.SessionKey, session.CreatedAt), logger);
        }
        // Nothing writes messages yet: a session's conversation starts empty.
        return new GuestSessionOpening(session, [], created);
    }

    private GuestSession NewSession(OpenGuestSession command)
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds());
        return new GuestSession(
            Id: Guid.CreateVersion7(now),
            SessionKey: this.GetPrimaryKeyString(),
            GuestName: command.GuestName,
            GuestEmail: command.GuestEmail,
            GuestPhone: command.GuestPhone,
            Status: GuestSessionStatus.Active,
            CreatedAt: now,
            UpdatedAt: now);
    }
}
