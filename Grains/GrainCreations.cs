namespace ChatGrains.Grains;

/// <summary>
/// How many grains of each kind this node created since the last heartbeat took the counts:
/// the dashboard's "created in the last minute / hour" without counting rows in the tables.
/// </summary>
public sealed class GrainCreations
{
    public const string Chats = "chats";
    public const string GuestSessions = "guestSessions";
    public const string LiveChatSessions = "liveChatSessions";

    public static readonly IReadOnlyList<string> Kinds = [Chats, GuestSessions, LiveChatSessions];

    private long _chats, _guestSessions, _liveChatSessions;

    internal void Chat() => Interlocked.Increment(ref _chats);

    internal void GuestSession() => Interlocked.Increment(ref _guestSessions);

    internal void LiveChatSession() => Interlocked.Increment(ref _liveChatSessions);

    /// <summary>The counts since the previous call, by kind; resets them.</summary>
    public IReadOnlyDictionary<string, long> Take() => new Dictionary<string, long>(StringComparer.Ordinal)
    {
        [Chats] = Interlocked.Exchange(ref _chats, 0),
        [GuestSessions] = Interlocked.Exchange(ref _guestSessions, 0),
        [LiveChatSessions] = Interlocked.Exchange(ref _liveChatSessions, 0),
    };
}
