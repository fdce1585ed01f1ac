namespace ChatGrains.ApiGateway.Conversations;

/// <summary><c>Hub:*</c> configuration: what one token subject may do on the hub, and how long a silent client may stay.</summary>
public sealed class HubLimitsOptions
{
    public const string Section = "Hub";

    /// <summary>Messages a sender (token subject, all its connections, every node) may send per second, sustained.</summary>
    public double MessagesPerSecond { get; set; } = 5;

    /// <summary>Messages a sender may send at once after a pause, before <see cref="MessagesPerSecond"/> paces it.</summary>
    public int MessageBurst { get; set; } = 10;

    /// <summary>Messages a visitor may store in its chat before a commercial accepts it.</summary>
    public int MaxMessagesWhilePending { get; set; } = 20;

    /// <summary>Open hub connections per token subject, cluster-wide; the next is refused with 429.</summary>
    public int MaxConnectionsPerUser { get; set; } = 10;

    /// <summary>
    /// A connection whose client sent nothing, not even a ping, for this long is closed
    /// (<see cref="SilentClientTimeout"/>). Clients ping every 15 s by default: keep it at least twice that.
    /// </summary>
    public TimeSpan ClientTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
