using Microsoft.Extensions.Logging;
using Orleans.Placement;

namespace ChatGrains.Grains;

/// <summary>One guest session, keyed by the client's <c>session_id</c>.</summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed class GuestSessionGrain(
    [PersistentState(GrainStorage.GuestSession, GrainStorage.Name)] IPersistentState<CreatedOnce<GuestConversation>> state,
    GrainMetrics metrics,
    TimeProvider clock,
    ILogger<GuestSessionGrain> logger) : Grain, IGuestSessionGrain
{
    public async Task<GuestSessionOpening> Open(OpenGuestSession command)
    {
        var (conversation, created) = await state.GetOrCreateAsync(() => NewConversation(command));
        var session = conversation.Session;
        if (created)
        {
            metrics.Created(GrainStorage.GuestSession);
            await this.PublishAsync(EventStreamIds.For(EventStreams.GuestSessionStarted, session.SessionKey),
                new GuestSessionStarted(session.Id, session.SessionKey, session.CreatedAt), logger);
        }
        return new GuestSessionOpening(session, [.. conversation.Messages.OrderBy(m => m.CreatedAt).ThenBy(m => m.Id)], created);
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
            UpdatedAt: now), Messages: []);
    }
}
