namespace ChatGrains.ApiGateway.Http;

/// <summary>The node's own pages (live chat, agent console, index) under a strict policy, and the headers every HTML response carries.</summary>
public static class StaticPages
{
    /// <summary>Only the page's own script and styles may load, so even markup that slipped into data could not run.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// Swagger UI (Swashbuckle): its own scripts and styles, the OpenAPI document it fetches, the
    /// <c>data:</c> SVG icons its stylesheet embeds, and — by hash, not <c>'unsafe-inline'</c> —
    /// the one <c>&lt;style&gt;</c> inside its logo (swagger-ui 5.33.3; the browser test fails
    /// with the blocked style when an update changes it).
    /// </summary>
    public const string SwaggerUiPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>
    /// The Orleans dashboard's page: its module script, stylesheet and fonts, the JSON it polls,
    /// the <c>data:</c> images and fonts its stylesheet embeds, and — by hash, not
    /// <c>'unsafe-inline'</c> — the one <c>style</c> attribute of its HTML (Orleans 10.4.2).
    /// </summary>
    public const string DashboardPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-hashes' 'sha256-eq2af6QS2pzGTyxQ6dj75iyyFqwRgxGGxEAjoqE24f0='; connect-src 'self'; img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>
    /// Every response says <c>X-Content-Type-Options: nosniff</c>, so no browser runs a JSON error
    /// or an uploaded-looking body as script or HTML. Every HTML response — whoever wrote it: our
    /// pages, Swagger UI, the Orleans dashboard, an error page — also refuses to be framed (a
    /// foreign site could otherwise frame the dashboard and trick clicks) and keeps its URL out of
    /// Referer; it gets the policy of its path unless the page set its own. Set as the response
    /// starts: the exception handler and the status-code pages clear or rewrite headers after
    /// this middleware ran, and third-party pages never see our policies otherwise.
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((http, next) =>
        {
            http.Response.OnStarting(() =>
            {
                var headers = http.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                if (http.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
                {
                    headers.XFrameOptions = "DENY";
                    headers["Referrer-Policy"] = "no-referrer";
                    if (string.IsNullOrEmpty(headers.ContentSecurityPolicy))
                    {
                        headers.ContentSecurityPolicy = PolicyFor(http.Request.Path);
                    }
                }
                return Task.CompletedTask;
            });
            return next(http);
        });

    private static string PolicyFor(PathString path) =>
        path.StartsWithSegments("/swagger", StringComparison.OrdinalIgnoreCase) ? SwaggerUiPolicy
        : path.StartsWithSegments("/dashboard", StringComparison.OrdinalIgnoreCase) ? DashboardPolicy
        : ContentSecurityPolicy;

    /// <summary>
    /// Maps <paramref name="path"/> to <c>wwwroot/{folder}/index.html</c>, under
    /// <see cref="ContentSecurityPolicy"/> or the one <paramref name="policy"/> gives for the request.
    /// HEAD too (the headers without the body), as link checkers and monitors ask.
    /// </summary>
    public static RouteHandlerBuilder MapStaticPage(this IEndpointRouteBuilder routes, string path, string folder, Func<HttpContext, string>? policy = null) =>
        routes.MapMethods(path, [HttpMethods.Get, HttpMethods.Head], (IWebHostEnvironment environment, HttpContext http) =>
            {
                // Without a policy of its own the page gets the path's (UseSecurityHeaders).
                if (policy is not null)
                {
                    http.Response.Headers.ContentSecurityPolicy = policy(http);
                }
                return TypedResults.PhysicalFile(Path.Combine(environment.WebRootPath, folder, "index.html"), "text/html; charset=utf-8");
            })
            .ExcludeFromDescription();
}
