namespace ChatGrains.Grains;

/// <summary><c>Webhooks:*</c>: what may be called, and how deliveries are timed, retried and given up.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Allows <c>http</c> URLs (a local demo, tests); otherwise only <c>https</c>.</summary>
    public bool AllowHttp { get; set; }

    /// <summary>Allows URLs whose host is (or resolves to) a loopback, private, link-local, unique-local or metadata address.</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>A delivery succeeds with a 2xx within this.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first retry's delay; each next one doubles, with ±20 % jitter.</summary>
    public TimeSpan FirstRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an event is retried before it is dead-lettered.</summary>
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>A webhook whose every delivery failed for this long is disabled.</summary>
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>After a rotation, deliveries carry the previous secret's signature too for this long.</summary>
    public TimeSpan RotationOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often a webhook looks for new events and due retries.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// While this node serves at least this many write requests at once, webhook rounds wait for
    /// it (one page per <see cref="MaxYield"/> still goes); 0: never wait.
    /// </summary>
    public int YieldAtWritesInFlight { get; set; } = 16;

    /// <summary>The longest a webhook waits for a busy node before it sends one page anyway.</summary>
    public TimeSpan MaxYield { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The delay before retry <paramref name="attempt"/> (1 for the first), jittered, unless the receiver asked for another.</summary>
    public TimeSpan RetryDelay(int attempt, TimeSpan? retryAfter, double jitter)
    {
        if (retryAfter is { } asked)
        {
            return asked < MaxRetryInterval ? asked : MaxRetryInterval;
        }
        var doubled = FirstRetryAfter * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = doubled < MaxRetryInterval ? doubled : MaxRetryInterval;
        return capped * (0.8 + 0.4 * jitter);
    }
}
