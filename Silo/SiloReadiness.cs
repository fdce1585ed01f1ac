using ChatGrains.Grains;
using Orleans.Runtime;

namespace ChatGrains.Silo;

/// <summary>
/// Whether this node's silo is active in its cluster: from the end of its start until its
/// shutdown begins. The HTTP edge answers 503 outside that span instead of calling grains.
/// </summary>
public sealed class SiloReadiness : ILifecycleParticipant<ISiloLifecycle>
{
    private volatile bool _active;

    public bool IsActive => _active;

    public void EnsureActive()
    {
        if (!_active)
        {
            throw new StorageUnavailableException("This node has not joined its cluster, or is leaving it.");
        }
    }

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloReadiness), ServiceLifecycleStage.Active,
            _ =>
            {
                _active = true;
                return Task.CompletedTask;
            },
            _ =>
            {
                _active = false;
                return Task.CompletedTask;
            });
}
