namespace ChatGrains.ApiGateway.Chats;

/// <summary><c>Chats:*</c> configuration.</summary>
public sealed class ChatsOptions
{
    public const string Section = "Chats";

    /// <summary>Open (not CLOSED) chats a visitor may have opened with its own token; past it, creation answers 409.</summary>
    public int MaxOpenPerVisitor { get; set; } = 20;

    /// <summary>
    /// PENDING chats that visitor tokens may have created from one client address (IPv4, IPv6 /64:
    /// see <c>ClientKeys</c>); past it, creation answers 409. Many free sessions from one place
    /// cannot bury a commercial's genuine offers.
    /// </summary>
    public int MaxPendingPerClientAddress { get; set; } = 10;

    /// <summary>How long after its close a visitor may reopen a chat (a TimeSpan such as 1.00:00:00).</summary>
    public TimeSpan ReopenWindow { get; set; } = TimeSpan.FromHours(24);
}
