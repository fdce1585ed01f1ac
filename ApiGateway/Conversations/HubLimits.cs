using System.Security.Claims;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace ChatGrains.ApiGateway.Conversations;

/// <summary>
/// The hub's per-subject limits (<see cref="HubLimitsOptions"/>), each counted by one grain per
/// token subject for the whole cluster. A limiter that does not answer admits, as the HTTP
/// limits do (<see cref="RateLimiterCalls"/>).
/// </summary>
public sealed partial class HubLimits(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IOptions<HubLimitsOptions> options,
    IOptions<RateLimitingOptions> rateLimiting,
    ILogger<HubLimits> logger)
{
    public HubLimitsOptions Options => options.Value;

    /// <summary>Takes one of the sender's message permits; <c>RateLimiting:Enabled=false</c> turns this rate off (not the caps).</summary>
    public Task<RateLimitDecision> TakeMessagePermitAsync(ClaimsPrincipal? sender)
    {
        var admitted = new RateLimitDecision(Admitted: true, Options.MessageBurst, Options.MessageBurst - 1, TimeSpan.Zero);
        return rateLimiting.Value.Enabled
            ? grains.GetGrain<ITokenBucketGrain>(SubjectOf(sender)).Take(Options.MessagesPerSecond, Options.MessageBurst).OrWhenUnansweredAsync(admitted, rateLimiting.Value.LimiterAnswerWait, logger)
            : Task.FromResult(admitted);
    }

    /// <summary>Whether the subject may open one more connection now (what negotiation answers).</summary>
    public async Task<bool> HasRoomForConnectionAsync(ClaimsPrincipal? user) =>
        await Connections(user).Count().OrWhenUnansweredAsync(0, rateLimiting.Value.LimiterAnswerWait, logger) < Options.MaxConnectionsPerUser;

    /// <summary>Counts a connection opened on this node, unless the subject has all its connections.</summary>
    public Task<bool> OpenConnectionAsync(ClaimsPrincipal? user) =>
        Connections(user).Open(silo.SiloAddress, Options.MaxConnectionsPerUser).OrWhenUnansweredAsync(true, rateLimiting.Value.LimiterAnswerWait, logger);

    public async Task CloseConnectionAsync(ClaimsPrincipal? user)
    {
        try
        {
            await Connections(user).Close(silo.SiloAddress);
        }
        catch (Exception exception)
        {
            // The slot stays taken until this node leaves the cluster or the count restarts: an error toward refusing, never toward more.
            LogCloseFailed(logger, exception);
        }
    }

    /// <summary>
    /// A request without a connection id opens a connection: a negotiation, or a WebSocket that
    /// skipped it. Refused with 429 when the subject has all its connections; the hub's own count
    /// at connect still holds the limit against negotiations raced in parallel.
    /// </summary>
    public static RequestDelegate RefuseConnectionsOverLimit(RequestDelegate next) => async http =>
    {
        if (http.User.Identity?.IsAuthenticated == true && !http.Request.Query.ContainsKey("id")
            && !await http.RequestServices.GetRequiredService<HubLimits>().HasRoomForConnectionAsync(http.User))
        {
            await ApiErrors.FormatOf(http)
                .Respond(http, StatusCodes.Status429TooManyRequests, "Too many connections for this token; close one before opening another.")
                .ExecuteAsync(http);
            return;
        }
        await next(http);
    };

    private IConnectionCountGrain Connections(ClaimsPrincipal? user) => grains.GetGrain<IConnectionCountGrain>(SubjectOf(user));

    // Every token this service issues has a subject; one without shares the empty key (and its limit).
    private static string SubjectOf(ClaimsPrincipal? user) => user?.FindFirstValue("sub") ?? "";

    [LoggerMessage(LogLevel.Warning, "Could not uncount a closed hub connection")]
    private static partial void LogCloseFailed(ILogger logger, Exception exception);
}

public static class HubLimitsRegistration
{
    public static IServiceCollection AddHubLimits(this IServiceCollection services)
    {
        services.AddRateLimitingOptions();
        services.AddOptions<HubLimitsOptions>()
            .BindConfiguration(HubLimitsOptions.Section)
            .Validate(o => o.MessagesPerSecond > 0, "Hub:MessagesPerSecond must be positive.")
            .Validate(o => o.MessageBurst >= 1, "Hub:MessageBurst must be at least 1.")
            .Validate(o => o.MaxMessagesWhilePending >= 0, "Hub:MaxMessagesWhilePending must not be negative.")
            .Validate(o => o.MaxConnectionsPerUser >= 1, "Hub:MaxConnectionsPerUser must be at least 1.")
            .Validate(o => o.ClientTimeout > TimeSpan.Zero, "Hub:ClientTimeout must be a positive duration (hh:mm:ss).")
            .ValidateOnStart();
        services.AddSingleton<HubLimits>();
        return services;
    }
}
