using Orleans.Placement;
using Orleans.Runtime;

namespace ChatGrains.Grains;

/// <summary>
/// Counts in memory, per node. A node that dies takes its connections with it without closing
/// them one by one: its count stops counting as soon as the membership declares it dead. Kept
/// active while anything is counted; if its own silo dies, or a leaving silo takes its directory
/// entry along, the count restarts at zero, which forgives the connections opened before (as the
/// rate limiters forgive a window).
/// </summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed class ConnectionCountGrain(IClusterMembershipService membership) : Grain, IConnectionCountGrain
{
    private readonly Dictionary<SiloAddress, int> _perNode = [];

    public Task<bool> Open(SiloAddress node, int max)
    {
        if (Live() >= max)
        {
            return Task.FromResult(false);
        }
        _perNode[node] = _perNode.GetValueOrDefault(node) + 1;
        KeepWhileCounting();
        return Task.FromResult(true);
    }

    public Task Close(SiloAddress node)
    {
        if (_perNode.GetValueOrDefault(node) > 1)
        {
            _perNode[node]--;
        }
        else
        {
            _perNode.Remove(node);
        }
        KeepWhileCounting();
        return Task.CompletedTask;
    }

    public Task<int> Count() => Task.FromResult(Live());

    private int Live()
    {
        var members = membership.CurrentSnapshot;
        foreach (var dead in _perNode.Keys.Where(node => members.GetSiloStatus(node) == SiloStatus.Dead).ToList())
        {
            _perNode.Remove(dead);
        }
        KeepWhileCounting();
        return _perNode.Values.Sum();
    }

    // Collecting a grain that counts open connections would forget them; an idle one may go.
    private void KeepWhileCounting() => DelayDeactivation(_perNode.Count > 0 ? Timeout.InfiniteTimeSpan : TimeSpan.Zero);
}
