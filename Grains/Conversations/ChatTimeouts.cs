namespace ChatGrains.Grains;

/// <summary>
/// <c>Chats:*</c> timeouts (TimeSpans such as 00:30:00): when an open chat closes by itself, and
/// how often each node looks for chats that are due.
/// </summary>
public sealed class ChatTimeouts
{
    public const string Section = "Chats";

    /// <summary>A PENDING chat nobody accepts within this closes as UNANSWERED (its offers withdrawn).</summary>
    public TimeSpan UnansweredTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>An ACTIVE chat with no message for this closes as INACTIVITY.</summary>
    public TimeSpan InactivityTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long before an inactivity close its participants get <c>chatIdle</c>.</summary>
    public TimeSpan InactivityWarning { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How often each node claims the chats that are due; a timeout fires at most about this late
    /// (three of these after a node died holding it: <see cref="ClaimLease"/>).
    /// </summary>
    public TimeSpan TimeoutSweepInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a claimed chat stays another sweep's to leave alone.</summary>
    public TimeSpan ClaimLease => TimeoutSweepInterval * 3;

}
