using Orleans.Placement;
using Orleans.Storage;

namespace ChatGrains.Grains;

/// <summary>A revoked dashboard session's record: until when its cookie would have been valid.</summary>
public sealed class OperatorSessionRevocation
{
    public DateTimeOffset? RevokedUntil { get; set; }
}

/// <summary>
/// Answers every authenticated dashboard request from memory: the record is read once per
/// activation, so the dashboard's polling costs one grain call, not a database read. Only a
/// sign-out writes. A session never revoked has no record.
/// </summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed class OperatorSessionGrain(
    [PersistentState(GrainStorage.OperatorSession, GrainStorage.Name)] IPersistentState<OperatorSessionRevocation> state) : Grain, IOperatorSessionGrain
{
    public async Task Revoke(DateTimeOffset cookieExpires)
    {
        if (state.State.RevokedUntil is not null)
        {
            return;
        }
        state.State.RevokedUntil = cookieExpires;
        try
        {
            await state.WriteOrRestoreAsync(() => state.State.RevokedUntil = null);
        }
        catch (InconsistentStateException) when (state.State.RevokedUntil is not null)
        {
            // Another activation (possible while the membership changes) revoked it first.
        }
    }

    public Task<bool> IsRevoked() => Task.FromResult(state.State.RevokedUntil is not null);
}
