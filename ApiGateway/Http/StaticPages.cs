namespace ChatGrains.ApiGateway.Http;

/// <summary>The node's own pages (live chat, dashboard): static files under a strict policy.</summary>
public static class StaticPages
{
    /// <summary>Only the page's own script and styles may load, so even markup that slipped into data could not run.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// Every response says <c>X-Content-Type-Options: nosniff</c>, so no browser runs a JSON error
    /// or an uploaded-looking body as script or HTML. Set as the response starts: the exception
    /// handler and the status-code pages clear or rewrite headers after this middleware ran.
    /// </summary>
    public static IApplicationBuilder UseNoSniff(this IApplicationBuilder app) =>
        app.Use((http, next) =>
        {
            http.Response.OnStarting(() =>
            {
                http.Response.Headers.XContentTypeOptions = "nosniff";
                return Task.CompletedTask;
            });
            return next(http);
        });

    /// <summary>
    /// wwwroot files; an HTML file gets the pages' policy also when fetched by its own name
    /// (<c>/livechat/index.html</c>), not only through its mapped path.
    /// </summary>
    public static IApplicationBuilder UseStaticFilesWithPagePolicy(this IApplicationBuilder app) =>
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = file =>
            {
                if (file.File.Name.EndsWith(".html", StringComparison.OrdinalIgnoreCase))
                {
                    ApplyPagePolicy(file.Context.Response.Headers);
                }
            },
        });

    /// <summary>
    /// Maps <paramref name="path"/> to <c>wwwroot/{folder}/index.html</c>, under
    /// <see cref="ContentSecurityPolicy"/> or the one <paramref name="policy"/> gives for the request.
    /// HEAD too (the headers without the body), as link checkers and monitors ask.
    /// </summary>
    public static RouteHandlerBuilder MapStaticPage(this IEndpointRouteBuilder routes, string path, string folder, Func<HttpContext, string>? policy = null) =>
        routes.MapMethods(path, [HttpMethods.Get, HttpMethods.Head], (IWebHostEnvironment environment, HttpContext http) =>
            {
                ApplyPagePolicy(http.Response.Headers, policy?.Invoke(http));
                return TypedResults.PhysicalFile(Path.Combine(environment.WebRootPath, folder, "index.html"), "text/html; charset=utf-8");
            })
            .ExcludeFromDescription();

    private static void ApplyPagePolicy(IHeaderDictionary headers, string? policy = null)
    {
        headers.ContentSecurityPolicy = policy ?? ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
    }
}
