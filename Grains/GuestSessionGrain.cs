namespace ChatGrains.Grains;

/// <summary>Guest session state as the storage provider keeps it (SQL per provider lives in Silo).</summary>
public interface IGuestSessionStore
{
    /// <summary>
    /// Inserts the session and its event in one transaction unless a session with that key
    /// exists. Returns the stored session with its messages: the given one (no messages yet)
    /// when it was inserted, the first writer's otherwise.
    /// </summary>
    Task<GuestSessionOpening> InsertIfAbsentAsync(GuestSession session, GuestSessionStarted started, CancellationToken cancellationToken);
}

public sealed class GuestSessionGrain(string sessionKey, IGuestSessionStore store, GrainCreations creations, TimeProvider clock) : IGuestSessionGrain
{
    public string SessionKey => sessionKey;

    public async Task<GuestSessionOpening> OpenAsync(OpenGuestSession command, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds());
        var session = new GuestSession(
            Id: Guid.CreateVersion7(now),
            SessionKey: sessionKey,
            GuestName: command.GuestName,
            GuestEmail: command.GuestEmail,
            GuestPhone: command.GuestPhone,
            Status: GuestSessionStatus.Active,
            CreatedAt: now,
            UpdatedAt: now);
        var opening = await store.InsertIfAbsentAsync(session, new GuestSessionStarted(session.Id, sessionKey, now), cancellationToken);
        if (opening.Created)
        {
            creations.GuestSession();
        }
        return opening;
    }
}
