using System.Security.Claims;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Http;
using ChatGrains.ApiGateway.LiveChat;
using ChatGrains.Grains;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Chats;

/// <summary>
/// The limits on creating a chat, which the chat grain consults only when the chat does not exist
/// (a replay costs nothing and is never refused): per visitor token subject
/// (<c>RateLimiting:VisitorChatsPerMinute</c>), per client (<c>RateLimiting:ChatCreationsPerMinute</c>,
/// every role; see <see cref="ClientKeys"/>), and for visitor tokens their open chats
/// (<c>Chats:MaxOpenPerVisitor</c>), the commercials they may name (those on duty,
/// <c>LiveChat:CommercialIds</c>, and those that have signed in) and the PENDING chats of their
/// client address (<c>Chats:MaxPendingPerClientAddress</c>). The counts live in grains, so they
/// hold for the whole cluster.
/// </summary>
public sealed class ChatCreationLimiting(ClientKeys clients, IOptions<RateLimitingOptions> rateLimits, IOptions<ChatsOptions> chats, IOptions<LiveChatOptions> liveChat)
{
    public const string VisitorPolicy = "per-visitor";
    public const string ClientPolicy = "per-client";

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Guid[] _onDutyCommercialIds = [.. liveChat.Value.Commercials()];

    /// <summary>The limits for this caller; the visitor's own limit first, so it never spends the client's shared budget.</summary>
    public ChatCreationLimits For(HttpContext http, ClaimsPrincipal user)
    {
        // As the chats API scopes callers: whoever is neither admin nor commercial acts as a visitor.
        var visitor = !user.IsInRole(Roles.Admin) && !user.IsInRole(Roles.Commercial);
        var rules = new List<RateLimitRule>(2);
        if (rateLimits.Value.Enabled)
        {
            if (visitor)
            {
                rules.Add(new RateLimitRule(VisitorPolicy, $"chat-creation-visitor:{user.FindFirstValue("sub")}", rateLimits.Value.VisitorChatsPerMinute, Window, rateLimits.Value.LimiterAnswerWait));
            }
            rules.Add(new RateLimitRule(ClientPolicy, $"chat-creation:{clients.Of(http)}", rateLimits.Value.ChatCreationsPerMinute, Window, rateLimits.Value.LimiterAnswerWait));
        }
        // Staff tokens are not handed out for free; their chats for a visitor are neither capped
        // nor counted, and may name any commercial.
        return visitor
            ? new ChatCreationLimits([.. rules], chats.Value.MaxOpenPerVisitor, _onDutyCommercialIds,
                new PendingChatCap(clients.Of(http), chats.Value.MaxPendingPerClientAddress))
            : new ChatCreationLimits([.. rules], null);
    }

    /// <summary>The draft rate-limit headers for the limits a creation consulted (none for a replay).</summary>
    public static void WriteHeaders(HttpResponse response, ChatCreationLimits limits, ChatOpening opening)
    {
        if (opening.RateLimits.Length == 0)
        {
            return;
        }
        var rules = limits.RateLimits;
        response.Headers["RateLimit-Policy"] = string.Join(", ", rules.Select(r => RateLimitHeaders.PolicyItem(r.Policy, r.Limit, r.Window)));
        response.Headers["RateLimit"] = string.Join(", ", rules.Zip(opening.RateLimits, (r, d) => RateLimitHeaders.StateItem(r.Policy, d)));
        if (opening.Refusal == ChatRefusal.RateLimited)
        {
            // The earliest moment every refusing limit admits again.
            response.Headers.RetryAfter = RateLimitHeaders.RetryAfter(opening.RateLimits.Where(d => !d.Admitted).Max(d => d.NextPermitIn));
        }
    }
}

public static class ChatCreationLimitingRegistration
{
    public static IServiceCollection AddChatCreationLimiting(this IServiceCollection services)
    {
        services.AddRateLimitingOptions();
        services.AddOptions<ChatsOptions>()
            .BindConfiguration(ChatsOptions.Section)
            .Validate(o => o.MaxOpenPerVisitor > 0, "Chats:MaxOpenPerVisitor must be positive.")
            .Validate(o => o.MaxPendingPerClientAddress > 0, "Chats:MaxPendingPerClientAddress must be positive.")
            .Validate(o => o.ReopenWindow > TimeSpan.Zero, "Chats:ReopenWindow must be positive (a TimeSpan such as 1.00:00:00).")
            .ValidateOnStart();
        services.AddSingleton<ChatCreationLimiting>();
        return services;
    }
}
