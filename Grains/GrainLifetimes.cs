namespace ChatGrains.Grains;

/// <summary>
/// How long idle activations are kept. Chats and sessions are created by the thousand a second
/// and most are not called again soon: kept the attribute's minimum (a minute, plus the
/// collector's quantum), they held ~7 KB each of live heap (a minute of creations at 1,000/s is
/// ~0.5 GB) and the GC's work that goes with it; collected in bursts each quantum, they made
/// latency spikes. So the activation that created one deactivates as soon as it is idle
/// (<c>DeactivateOnIdle</c>), and one that was read back is kept <see cref="CreatedIdle"/>. A
/// later call costs one (batched) read of the record.
/// </summary>
public static class GrainLifetimes
{
    /// <summary>How long a chat, guest-session or live-chat-session activation is kept idle.</summary>
    public static readonly TimeSpan CreatedIdle = TimeSpan.FromSeconds(15);

    /// <summary>How often the collector looks for idle activations (Orleans' default: a minute).</summary>
    public static readonly TimeSpan CollectionQuantum = TimeSpan.FromSeconds(5);

    /// <summary>The grain classes kept <see cref="CreatedIdle"/>.</summary>
    public static readonly Type[] CreatedGrains = [typeof(ChatGrain), typeof(GuestSessionGrain), typeof(LiveChatSessionGrain)];
}
