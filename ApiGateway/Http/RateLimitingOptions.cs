namespace ChatGrains.ApiGateway.Http;

/// <summary><c>RateLimiting:*</c> configuration: every per-client limit of the service.</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    public const int MinIPv6PrefixLength = 32;

    /// <summary>Off turns off the per-client rate limits (session endpoints and chat creation); the open-chat cap stays.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Requests per minute a client may make to each session endpoint.</summary>
    public int PermitsPerMinute { get; set; } = 60;

    /// <summary>
    /// How many leading bits of an IPv6 address name one client. A single subscriber usually gets
    /// a whole /64 (often a /56 or /48), so keying by the full address would hand it 2^64 budgets.
    /// </summary>
    public int IPv6PrefixLength { get; set; } = 64;

    /// <summary>Chats a visitor token (by its subject) may create per minute, cluster-wide.</summary>
    public int VisitorChatsPerMinute { get; set; } = 10;

    /// <summary>Chats one client (by <see cref="ClientKeys"/>) may create per minute, whatever its role.</summary>
    public int ChatCreationsPerMinute { get; set; } = 120;

    /// <summary>
    /// How long a request waits for a limiter's grain before admitting without it (its silo just
    /// died: nothing answers for it until the membership says so). A limiter that answers within
    /// it decides.
    /// </summary>
    public TimeSpan LimiterAnswerWait { get; set; } = ChatGrains.Grains.RateLimiterCalls.DefaultAnswerWait;
}

public static class RateLimitingOptionsRegistration
{
    /// <summary>Registers once, however many of the limited APIs ask for it.</summary>
    public static IServiceCollection AddRateLimitingOptions(this IServiceCollection services)
    {
        if (services.Any(s => s.ServiceType == typeof(ClientKeys)))
        {
            return services;
        }
        services.AddOptions<RateLimitingOptions>()
            .BindConfiguration(RateLimitingOptions.Section)
            .Validate(o => o.PermitsPerMinute > 0, "RateLimiting:PermitsPerMinute must be positive.")
            // Shorter than a /32 (an ISP's whole allocation) would lump unrelated customers into one budget.
            .Validate(o => o.IPv6PrefixLength is >= RateLimitingOptions.MinIPv6PrefixLength and <= 128,
                "RateLimiting:IPv6PrefixLength must be between 32 and 128.")
            .Validate(o => o.VisitorChatsPerMinute > 0, "RateLimiting:VisitorChatsPerMinute must be positive.")
            .Validate(o => o.ChatCreationsPerMinute > 0, "RateLimiting:ChatCreationsPerMinute must be positive.")
            .Validate(o => o.LimiterAnswerWait > TimeSpan.Zero, "RateLimiting:LimiterAnswerWait must be positive (a TimeSpan such as 00:00:01).")
            .ValidateOnStart();
        services.AddSingleton<ClientKeys>();
        return services;
    }
}
