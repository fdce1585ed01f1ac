using System.Security.Claims;
using System.Text.Encodings.Web;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Orleans.Dashboard;

namespace ChatGrains.ApiGateway.Dashboard;

/// <summary>
/// What operators use: the Orleans dashboard at <c>/dashboard</c>, our sign-in page in front of
/// it, and the Prometheus scrape endpoint at <c>/metrics</c> — all behind <see cref="OperatorAccess"/>.
/// </summary>
public static partial class OperatorsApi
{
    /// <summary>The cookie never outlives the token it was made from, nor a working day.</summary>
    private static readonly TimeSpan MaxCookieLifetime = TimeSpan.FromHours(8);

    private const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IEndpointRouteBuilder MapOperators(this IEndpointRouteBuilder routes)
    {
        // The dashboard's page makes its own XHR calls, so no Bearer header rides along: a
        // browser signs in once and its cookie carries the session.
        routes.MapOrleansDashboard("/dashboard").RequireOperator().ExcludeFromDescription();
        if (Telemetry.MetricsEnabled(routes.ServiceProvider.GetRequiredService<IConfiguration>()))
        {
            routes.MapPrometheusScrapingEndpoint("/metrics").RequireOperator();
        }

        var signIn = routes.MapGroup("/dashboard").ExcludeFromDescription();
        signIn.MapGet("/sign-in", (HttpContext http, IAntiforgery antiforgery) => SignInPage(http, antiforgery, StatusCodes.Status200OK, null));
        signIn.MapPost("/sign-in", SignInAsync);
        signIn.MapPost("/sign-out", SignOutAsync);
        return routes;
    }

    /// <summary>
    /// Validates the submitted token exactly as the APIs do (the JWT bearer scheme's parameters),
    /// and turns an admin token into a dashboard cookie. The form is antiforgery-protected.
    /// </summary>
    private static async Task<IResult> SignInAsync(
        [FromForm] string? token,
        HttpContext http,
        IAntiforgery antiforgery,
        SignInAttempts attempts,
        IOptionsMonitor<JwtBearerOptions> bearer,
        TimeProvider clock,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(OperatorsApi).FullName!);
        if (await attempts.BlockedForAsync(http) is { } wait)
        {
            http.Response.Headers.RetryAfter = SignInAttempts.Seconds(wait);
            return SignInPage(http, antiforgery, StatusCodes.Status429TooManyRequests, "Too many failed sign-ins from this address; try again in a minute.");
        }
        var parameters = bearer.Get(JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters;
        var result = string.IsNullOrWhiteSpace(token)
            ? null
            : await new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token.Trim(), parameters);
        if (result is not { IsValid: true, SecurityToken: JsonWebToken jwt })
        {
            LogFailedSignIn(logger, "invalid token", http.Connection.RemoteIpAddress?.ToString());
            await attempts.FailedAsync(http);
            return SignInPage(http, antiforgery, StatusCodes.Status401Unauthorized, "That token is not valid (signature, issuer, audience or expiry).");
        }
        var identity = result.ClaimsIdentity;
        if (!new ClaimsPrincipal(identity).IsInRole(Roles.Admin))
        {
            LogFailedSignIn(logger, "not an admin token", http.Connection.RemoteIpAddress?.ToString());
            await attempts.FailedAsync(http);
            return SignInPage(http, antiforgery, StatusCodes.Status403Forbidden, "That token is valid but not an admin token.");
        }

        // Ours alone names the session that sign-out revokes, whatever the token carried.
        foreach (var claim in identity.FindAll(OperatorAccess.SessionClaim).ToList())
        {
            identity.RemoveClaim(claim);
        }
        identity.AddClaim(new Claim(OperatorAccess.SessionClaim, Guid.NewGuid().ToString()));
        var expires = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero);
        var cap = clock.GetUtcNow() + MaxCookieLifetime;
        await http.SignInAsync(OperatorAccess.CookieScheme, new ClaimsPrincipal(identity), new AuthenticationProperties
        {
            ExpiresUtc = expires < cap ? expires : cap,
            IsPersistent = false,
        });
        return SeeOther("/dashboard/");
    }

    /// <summary>
    /// Revokes the cookie's session cluster-wide before clearing it: clearing alone would leave any
    /// copy of the cookie good until it expires.
    /// </summary>
    private static async Task<IResult> SignOutAsync(HttpContext http, IGrainFactory grains, TimeProvider clock, [FromForm] string? reason = null)
    {
        _ = reason; // the form needs a field for antiforgery to bind; nothing to read
        var cookie = await http.AuthenticateAsync(OperatorAccess.CookieScheme);
        if (OperatorAccess.SessionOf(cookie.Principal) is { } session)
        {
            var expires = cookie.Properties?.ExpiresUtc ?? clock.GetUtcNow() + MaxCookieLifetime;
            await ClusterAvailability.CallAsync(http, async () =>
            {
                await grains.GetGrain<IOperatorSessionGrain>(session).Revoke(expires);
                return true;
            });
        }
        await http.SignOutAsync(OperatorAccess.CookieScheme);
        return SeeOther(OperatorAccess.SignInPath);
    }

    private static SeeOtherResult SeeOther(string location) => new(location);

    private static Microsoft.AspNetCore.Http.HttpResults.ContentHttpResult SignInPage(HttpContext http, IAntiforgery antiforgery, int status, string? error)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.CacheControl = "no-store";
        var html = HtmlEncoder.Default;
        var field = html.Encode(tokens.FormFieldName);
        var value = html.Encode(tokens.RequestToken ?? "");
        var message = error is null ? "" : $"""<p class="error" role="alert">{html.Encode(error)}</p>""";
        return TypedResults.Content($$"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>ChatGrains · operator sign-in</title>
              <link rel="stylesheet" href="/operators/sign-in.css">
            </head>
            <body>
              <main>
                <h1>ChatGrains operators</h1>
                <p>Paste an <code>admin</code> token to open the Orleans dashboard. Get one with
                  <code>dotnet run --project ApiGateway -- token --role admin --sub &lt;uuid&gt;</code>.</p>
                {{message}}
                <form method="post" action="/dashboard/sign-in">
                  <input type="hidden" name="{{field}}" value="{{value}}">
                  <label for="token">Admin token</label>
                  <textarea id="token" name="token" rows="6" required autocomplete="off" spellcheck="false"></textarea>
                  <button type="submit">Sign in</button>
                </form>
                <form method="post" action="/dashboard/sign-out">
                  <input type="hidden" name="{{field}}" value="{{value}}">
                  <button type="submit" class="secondary">Sign out</button>
                </form>
              </main>
            </body>
            </html>
            """, "text/html; charset=utf-8", statusCode: status);
    }

    [LoggerMessage(LogLevel.Warning, "Failed dashboard sign-in ({Reason}) from {Client}")]
    private static partial void LogFailedSignIn(ILogger logger, string reason, string? client);

    /// <summary>303: after a POST, the browser follows with a GET.</summary>
    private sealed class SeeOtherResult(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }
}
