namespace ChatGrains.Grains;

/// <summary>How busy this node's API is with writes: what webhook deliveries yield to.</summary>
public interface IApiLoad
{
    /// <summary>Write requests (not hub traffic) this node is serving at this moment.</summary>
    int WritesInFlight { get; }
}
