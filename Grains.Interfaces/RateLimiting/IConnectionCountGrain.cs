using Orleans.Runtime;

namespace ChatGrains.Grains;

/// <summary>
/// The hub connections of one token subject across the cluster, counted per node, so a limit
/// holds however a balancer spreads the subject's connections.
/// </summary>
[Alias("chatgrains.IConnectionCountGrain")]
public interface IConnectionCountGrain : IGrainWithStringKey
{
    /// <summary>Counts a connection opened on <paramref name="node"/> unless the subject already has <paramref name="max"/>.</summary>
    [Alias("Open")]
    Task<bool> Open(SiloAddress node, int max);

    /// <summary>A connection that <see cref="Open"/> counted on <paramref name="node"/> closed.</summary>
    [Alias("Close")]
    Task Close(SiloAddress node);

    /// <summary>The subject's open connections on the nodes still in the cluster.</summary>
    [Alias("Count")]
    Task<int> Count();
}
