namespace ChatGrains.Grains;

/// <summary>
/// A token bucket for one key (a hub sender): a steady rate with room for a burst, counted in
/// memory by the key's single activation in the cluster, so every node of the sender asks the same count.
/// </summary>
[Alias("chatgrains.ITokenBucketGrain")]
public interface ITokenBucketGrain : IGrainWithStringKey
{
    /// <summary>
    /// Takes one token from a bucket that holds at most <paramref name="burst"/> and refills
    /// <paramref name="perSecond"/> a second; refused (nothing taken) when it is empty.
    /// </summary>
    [Alias("Take")]
    Task<RateLimitDecision> Take(double perSecond, int burst);
}
