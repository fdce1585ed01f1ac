namespace ChatGrains.Grains;

/// <summary>
/// Where grains publish what happened: each kind of event has its namespace, spread over
/// <see cref="Partitions"/> long-lived streams by the grain's id. One stream per grain would
/// make the stream agents track every grain ever created (their per-stream cache grew by one
/// entry per creation, ~7,000 after two minutes of load); a few partitions keep it bounded.
/// Subscribers use implicit subscriptions
/// (<c>[ImplicitStreamSubscription(EventStreams.ChatCreated)]</c>) on a grain keyed by the
/// partition, and read the grain's id from the event.
/// </summary>
public static class EventStreams
{
    /// <summary>The stream provider's name in the silo configuration.</summary>
    public const string Provider = "events";

    public const string ChatCreated = "chat-created";
    public const string GuestSessionStarted = "guest-session-started";
    public const string LiveChatSessionStarted = "livechat-session-started";

    /// <summary>How many streams each namespace is spread over (see <c>EventStreamIds</c> in Grains).</summary>
    public const int Partitions = 8;
}
