using Orleans;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Captcha;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.LiveChat;

/// <summary><c>POST /livechat/session</c> (spec 001, in Indonesian) and the live-chat page.</summary>
public static class LiveChatApi
{
    /// <summary>Cookies the page reads back to pre-fill its form (scenario 2): not HttpOnly on purpose.</summary>
    public static readonly IReadOnlyDictionary<string, string> Cookies = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["name"] = "livechat_name",
        ["city"] = "livechat_city",
        ["country"] = "livechat_country",
    };

    private static readonly TimeSpan CookieLifetime = TimeSpan.FromDays(365);

    public static RouteGroupBuilder MapLiveChatApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/livechat")
            .WithTags("Live chat")
            .WithErrorFormat(LiveChatErrorFormat.Instance)
            .RequireActiveSilo()
            .WithMetadata(new RateLimitedPerClient("livechat-session"));

        group.MapPost("/session", StartSession)
            .WithName("StartLiveChatSession")
            .WithSummary("Starts a live-chat session for a guest and returns its RS256 session token; stores name, city and country in cookies.")
            .Produces<LiveChatValidationErrors>(StatusCodes.Status422UnprocessableEntity)
            .Produces<LiveChatError>(StatusCodes.Status413PayloadTooLarge)
            .Produces<LiveChatError>(StatusCodes.Status415UnsupportedMediaType)
            .Produces<LiveChatError>(StatusCodes.Status429TooManyRequests)
            .Produces<LiveChatError>(StatusCodes.Status500InternalServerError)
            .Produces<LiveChatError>(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    /// <summary><see cref="LiveChatOptions"/>, checked at start: a malformed id names the key.</summary>
    public static IServiceCollection AddLiveChatPage(this IServiceCollection services)
    {
        services.AddOptions<LiveChatOptions>()
            .BindConfiguration(LiveChatOptions.Section)
            .Validate(o => o.CommercialIds.All(id => Guid.TryParseExact(id, "D", out _)),
                "LiveChat:CommercialIds must hold UUIDs (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
            .Validate(o => o.CommercialIds.Length <= 100 && o.CommercialIds.Distinct(StringComparer.OrdinalIgnoreCase).Count() == o.CommercialIds.Length,
                "LiveChat:CommercialIds must hold at most 100 distinct ids (the limit of a chat's availableCommercialIds).")
            .ValidateOnStart();
        return services;
    }

    /// <summary>
    /// The page at <c>/livechat</c> ("Suara Pendengar") and <c>GET /livechat/config</c>, which
    /// tells it the commercials to offer its chat to. Neither is rate limited: loading the page
    /// costs the listener none of the session endpoint's permits.
    /// </summary>
    public static IEndpointRouteBuilder MapLiveChatPage(this IEndpointRouteBuilder routes)
    {
        // With a captcha, the page's policy also lets the provider's widget in (its script and frame).
        routes.MapStaticPage("/livechat", "livechat", http =>
            http.RequestServices.GetRequiredService<CaptchaCheck>().PagePolicy());
        routes.MapGet("/livechat/config", (IOptions<LiveChatOptions> options, CaptchaCheck captcha) =>
                TypedResults.Ok(new LiveChatPageConfig(options.Value.Commercials(), captcha.Widget())))
            .ExcludeFromDescription();
        return routes;
    }

    private static async Task<Results<Created<LiveChatSessionResponse>, JsonHttpResult<LiveChatValidationErrors>>> StartSession(
        LiveChatSessionRequest request,
        HttpContext http,
        IGrainFactory grains,
        TokenIssuer tokens,
        IOptions<JwtOptions> jwt,
        CaptchaCheck captcha)
    {
        var errors = new FieldErrors();
        var messages = LiveChatMessages.For(http.Request);
        var captchaRequired = captcha.IsRequiredFor(CaptchaEndpoints.LiveChatSession);
        if (request.Validate(errors, messages, captchaRequired) is not var (name, city, country))
        {
            return LiveChatErrorFormat.Invalid(errors.ToDictionary());
        }
        if (captchaRequired && !await captcha.PassesAsync(request.CaptchaToken!, http))
        {
            return LiveChatErrorFormat.Invalid(new Dictionary<string, string[]>(StringComparer.Ordinal) { ["captchaToken"] = [messages.CaptchaRejected] });
        }

        var lifetime = jwt.Value.SessionTokenLifetime;
        var session = await grains.GetGrain<ILiveChatSessionGrain>(Guid.CreateVersion7())
            .Start(new StartLiveChatSession(name, city, country, lifetime));
        // The session's own times, so the token expires exactly when the session does (a token
        // made "now" could differ by the second that ticked between the grain and here).
        var token = tokens.Issue(session.User.Id.ToString(), Roles.Visitor, session.CreatedAt, session.ExpiresAt - session.CreatedAt,
            new Dictionary<string, object>(StringComparer.Ordinal) { ["sid"] = session.Id.ToString() });

        // Values are percent-encoded by ASP.NET; they are display data only and never read back.
        var cookie = new CookieOptions
        {
            MaxAge = CookieLifetime,
            Path = "/",
            SameSite = SameSiteMode.Lax,
            Secure = http.Request.IsHttps,
            HttpOnly = false,
        };
        http.Response.Cookies.Append(Cookies["name"], name, cookie);
        http.Response.Cookies.Append(Cookies["city"], city, cookie);
        http.Response.Cookies.Append(Cookies["country"], country, cookie);

        return TypedResults.Created((string?)null, new LiveChatSessionResponse(token, session.Id, session.User.Id, session.ExpiresAt));
    }
}
