namespace ChatGrains.ApiGateway.Http;

/// <summary>The node's own pages (live chat, dashboard): static files under a strict policy.</summary>
public static class StaticPages
{
    /// <summary>Only the page's own script and styles may load, so even markup that slipped into data could not run.</summary>
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Maps <paramref name="path"/> to <c>wwwroot/{folder}/index.html</c>.</summary>
    public static RouteHandlerBuilder MapStaticPage(this IEndpointRouteBuilder routes, string path, string folder) =>
        routes.MapGet(path, (IWebHostEnvironment environment, HttpContext http) =>
            {
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                return TypedResults.PhysicalFile(Path.Combine(environment.WebRootPath, folder, "index.html"), "text/html; charset=utf-8");
            })
            .ExcludeFromDescription();
}
