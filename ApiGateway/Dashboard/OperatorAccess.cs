using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Dashboard;

/// <summary><c>Dashboard:*</c> configuration of who may see the operators' pages.</summary>
public sealed class OperatorAccessOptions
{
    public const string Section = "Dashboard";

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>Failed sign-ins and Basic attempts a client IP may make per minute before it gets 429.</summary>
    public int FailedSignInsPerMinute { get; set; } = 10;

    public bool BasicConfigured => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);

    /// <summary>Either half configured turns the loopback exception off.</summary>
    public bool AnyCredentialConfigured => !string.IsNullOrEmpty(Username) || !string.IsNullOrEmpty(Password);
}

/// <summary>Endpoint metadata: only operators reach this endpoint (the Orleans dashboard, <c>/metrics</c>).</summary>
public sealed class OperatorOnly
{
    public static readonly OperatorOnly Instance = new();

    private OperatorOnly()
    {
    }
}

/// <summary>
/// Who is an operator: an admin signed in at <c>/dashboard/sign-in</c> (an ASP.NET Core
/// authentication cookie), an <c>admin</c> Bearer token, HTTP Basic with
/// <c>Dashboard:Username</c>/<c>Dashboard:Password</c> when configured, or — only when neither is
/// configured — a truly local request: loopback peer, no forwarding header, and a
/// <c>Host</c> of <c>localhost</c> or a loopback address (so a DNS-rebinding page cannot use it).
/// </summary>
public static class OperatorAccess
{
    public const string CookieScheme = "dashboard";
    public const string SignInPath = "/dashboard/sign-in";

    /// <summary>The cookie's session id (OpenID Connect's name for it), which sign-out revokes.</summary>
    public const string SessionClaim = "sid";

    public static IServiceCollection AddOperatorAccess(this IServiceCollection services)
    {
        services.AddOptions<OperatorAccessOptions>()
            .BindConfiguration(OperatorAccessOptions.Section)
            .Validate(o => o.FailedSignInsPerMinute > 0, "Dashboard:FailedSignInsPerMinute must be positive.")
            .ValidateOnStart();
        services.AddAuthentication().AddCookie(CookieScheme, cookie =>
        {
            cookie.Cookie.Name = "chatgrains-dashboard";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.SlidingExpiration = false;
            // The middleware below decides what an anonymous request gets: never the cookie
            // handler's own redirects.
            cookie.Events = new CookieAuthenticationEvents
            {
                OnRedirectToLogin = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                },
                OnValidatePrincipal = RefuseRevokedSessionAsync,
            };
        });
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "chatgrains-antiforgery";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
        });
        services.AddSingleton<SignInAttempts>();
        return services;
    }

    public static Guid? SessionOf(ClaimsPrincipal? principal) =>
        Guid.TryParse(principal?.FindFirst(SessionClaim)?.Value, out var session) ? session : null;

    /// <summary>
    /// A cookie is a bearer credential until it expires: after a sign-out, a copy of it must not
    /// open the dashboard on any node. Every cookie request asks the session's grain (one
    /// in-memory grain call; no per-node cache, which would let a revoked cookie in on the nodes
    /// that cached it). A cookie without a session id cannot be revoked, so it is refused too.
    /// </summary>
    private static async Task RefuseRevokedSessionAsync(CookieValidatePrincipalContext context)
    {
        var http = context.HttpContext;
        if (SessionOf(context.Principal) is not { } session
            || await ClusterAvailability.CallAsync(http, () => http.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<IOperatorSessionGrain>(session).IsRevoked()))
        {
            context.RejectPrincipal();
            // The browser drops it, rather than sending a dead cookie with every poll.
            await http.SignOutAsync(CookieScheme);
        }
    }

    /// <summary>Only operators may reach the endpoints of <paramref name="builder"/>.</summary>
    public static TBuilder RequireOperator<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(OperatorOnly.Instance);

    /// <summary>After routing and authentication: enforces <see cref="OperatorOnly"/>.</summary>
    public static IApplicationBuilder UseOperatorAccess(this IApplicationBuilder app) => app.UseMiddleware<OperatorAccessMiddleware>();

    /// <summary>Headers a proxy adds: a request carrying any of them came through one, not from this machine's operator.</summary>
    private static readonly string[] ProxyHeaders =
        ["X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host", "X-Forwarded-Proto",
         // Set by the trusted-proxy middleware when it replaced the peer with a forwarded address.
         "X-Original-For"];

    /// <summary>
    /// True when the request comes from this machine itself and names it, with nothing forwarded.
    /// A node configured with trusted proxies has a proxy in front of it: then no request counts
    /// as local, since a proxy that forwards nothing would make every remote client look local.
    /// </summary>
    internal static bool IsTrulyLocal(HttpContext http)
    {
        var headers = http.Request.Headers;
        var proxies = http.RequestServices.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value;
        if (http.Connection.RemoteIpAddress is not { } peer || !IPAddress.IsLoopback(peer)
            || proxies.KnownProxies.Count > 0 || proxies.KnownIPNetworks.Count > 0
            || ProxyHeaders.Any(headers.ContainsKey))
        {
            return false;
        }
        var host = http.Request.Host.Host;
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
               || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }
}

internal sealed partial class OperatorAccessMiddleware(
    RequestDelegate next,
    IOptions<OperatorAccessOptions> options,
    SignInAttempts attempts,
    ILogger<OperatorAccessMiddleware> logger)
{
    private enum Decision { Allowed, Unauthorized, Forbidden, TooManyAttempts }

    public async Task InvokeAsync(HttpContext http)
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<OperatorOnly>() is null)
        {
            await next(http);
            return;
        }
        var (decision, retryAfter) = await DecideAsync(http);
        IResult result;
        switch (decision)
        {
            case Decision.Allowed:
                await next(http);
                return;
            case Decision.Forbidden:
                result = TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "An admin token is required.");
                break;
            case Decision.TooManyAttempts:
                http.Response.Headers.RetryAfter = SignInAttempts.Seconds(retryAfter);
                result = TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many failed sign-ins from this client; retry later.");
                break;
            default:
                result = IsBrowserNavigation(http.Request)
                    ? TypedResults.Redirect(OperatorAccess.SignInPath)
                    : Challenge(http);
                break;
        }
        await result.ExecuteAsync(http);
    }

    private async Task<(Decision, TimeSpan)> DecideAsync(HttpContext http)
    {
        var cookie = await http.AuthenticateAsync(OperatorAccess.CookieScheme);
        if (cookie.Succeeded && cookie.Principal.IsInRole(Roles.Admin))
        {
            return (Decision.Allowed, default);
        }
        string authorization = http.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var bearer = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
            return !bearer.Succeeded ? (Decision.Unauthorized, default)
                : bearer.Principal.IsInRole(Roles.Admin) ? (Decision.Allowed, default)
                : (Decision.Forbidden, default);
        }
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            if (await attempts.BlockedForAsync(http) is { } wait)
            {
                return (Decision.TooManyAttempts, wait);
            }
            if (options.Value.BasicConfigured && BasicMatches(authorization["Basic ".Length..].Trim()))
            {
                return (Decision.Allowed, default);
            }
            LogFailedBasic(logger, http.Connection.RemoteIpAddress?.ToString());
            await attempts.FailedAsync(http);
            return (Decision.Unauthorized, default);
        }
        if (authorization.Length == 0 && !options.Value.AnyCredentialConfigured && OperatorAccess.IsTrulyLocal(http))
        {
            return (Decision.Allowed, default);
        }
        return (Decision.Unauthorized, default);
    }

    /// <summary>Compares hashes in constant time: neither the content nor the length of the secret leaks.</summary>
    private bool BasicMatches(string encoded)
    {
        byte[] given;
        try
        {
            given = Convert.FromBase64String(encoded);
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = Encoding.UTF8.GetBytes($"{options.Value.Username}:{options.Value.Password}");
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(given), SHA256.HashData(expected));
    }

    private static bool IsBrowserNavigation(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    private Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Challenge(HttpContext http)
    {
        // No "Basic" challenge: a browser would pop its own dialog instead of the sign-in page.
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized,
            title: options.Value.BasicConfigured ? "An admin token or the dashboard's username and password are required." : "An admin token is required.");
    }

    [LoggerMessage(LogLevel.Warning, "Failed dashboard Basic sign-in from {Client}")]
    private static partial void LogFailedBasic(ILogger logger, string? client);
}
