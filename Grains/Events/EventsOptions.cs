namespace ChatGrains.Grains;

/// <summary><c>Events:*</c>: how long the event log keeps events, and how the feed waits for new ones.</summary>
public sealed class EventsOptions
{
    public const string Section = "Events";

    /// <summary>How long an event stays readable after it was stored.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often each node deletes the events older than <see cref="Retention"/>.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often a long poll (<c>GET /v2/events?wait=</c>) looks again while nothing is new.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);
}
