namespace ChatGrains.Grains;

/// <summary>
/// Where grains publish what happened: one Orleans stream per created grain, in the namespace
/// of its kind, keyed by the grain's id. Subscribers use implicit subscriptions
/// (<c>[ImplicitStreamSubscription(EventStreams.ChatCreated)]</c>) on a grain keyed the same way.
/// </summary>
public static class EventStreams
{
    /// <summary>The stream provider's name in the silo configuration.</summary>
    public const string Provider = "events";

    public const string ChatCreated = "chat-created";
    public const string GuestSessionStarted = "guest-session-started";
    public const string LiveChatSessionStarted = "livechat-session-started";
}
