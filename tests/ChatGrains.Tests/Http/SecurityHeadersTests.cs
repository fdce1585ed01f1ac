using System.Net;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Http;

/// <summary>Headers every response carries, answered by the API, the error paths or the static files alike.</summary>
public sealed class SecurityHeadersTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private TestNode Node => fixture.Node;

    [Fact]
    public async Task ASuccessfulApiResponseSaysNoSniff()
    {
        using var response = await Node.Client.PostSessionAsync(new System.Text.Json.Nodes.JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        AssertNoSniff(response);
    }

    [Fact]
    public async Task AHealthCheckSaysNoSniff()
    {
        using var response = await Node.Client.GetAsync(new Uri("/health/live", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertNoSniff(response);
    }

    [Fact]
    public async Task TheRootIsAnIndexOfThePagesAndDocumentsUnderThePagePolicy()
    {
        using var response = await Node.Client.GetAsync(new Uri("/", UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ChatGrains.ApiGateway.Http.StaticPages.ContentSecurityPolicy, string.Join(' ', response.Headers.GetValues("Content-Security-Policy")));
        foreach (var link in new[] { "href=\"/livechat\"", "href=\"/agent\"", "href=\"/dashboard/\"", "href=\"/swagger\"", "href=\"/openapi/v1.json\"", "/hubs/livechat" })
        {
            Assert.Contains(link, html, StringComparison.Ordinal);
        }
        AssertNoSniff(response);
    }

    [Fact]
    public async Task TheFaviconIsAnIcon()
    {
        using var response = await Node.Client.GetAsync(new Uri("/favicon.ico", UriKind.Relative));
        var icon = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/x-icon", response.Content.Headers.ContentType?.MediaType);
        // An ICO header: reserved 0, type 1 (icon), one image.
        Assert.Equal(new byte[] { 0, 0, 1, 0, 1, 0 }, icon[..6]);
        AssertNoSniff(response);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/livechat")]
    [InlineData("/agent")]
    public async Task APageAnswersHeadWithItsHeadersAndNoBody(string path)
    {
        using var get = await Node.Client.GetAsync(new Uri(path, UriKind.Relative));
        using var head = await Node.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri(path, UriKind.Relative)));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("text/html", head.Content.Headers.ContentType?.MediaType);
        Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
        Assert.Equal(get.Headers.GetValues("Content-Security-Policy"), head.Headers.GetValues("Content-Security-Policy"));
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        AssertNoSniff(head);
    }

    [Fact]
    public async Task ANotFoundSaysNoSniff()
    {
        using var response = await Node.Client.GetAsync(new Uri("/no/such/page", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        AssertNoSniff(response);
    }

    [Fact]
    public async Task AValidationErrorSaysNoSniff()
    {
        using var response = await Node.Client.PostSessionAsync("""{"session_id":"aaaaaaaa"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("VALIDATION_FAILED", (string?)(await response.EnvelopeAsync())["error"]!["code"]);
        AssertNoSniff(response);
    }

    [Fact]
    public async Task AnErrorAnsweredByTheExceptionHandlerSaysNoSniff()
    {
        // Malformed JSON reaches the exception handler, which clears the response's headers.
        using var response = await Node.Client.PostSessionAsync("not json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("VALIDATION_FAILED", (string?)(await response.EnvelopeAsync())["error"]!["code"]);
        AssertNoSniff(response);
    }

    [Fact]
    public async Task AnUnauthenticatedRequestSaysNoSniff()
    {
        using var response = await Node.Client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        AssertNoSniff(response);
    }

    [Theory]
    [InlineData("/livechat/livechat.js")]
    [InlineData("/livechat/livechat.css")]
    [InlineData("/operators/sign-in.css")]
    [InlineData("/agent/agent.js")]
    [InlineData("/lib/conversation.js")]
    [InlineData("/lib/signalr/signalr.min.js")]
    public async Task AStaticFileSaysNoSniff(string path)
    {
        using var response = await Node.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEmpty(await response.Content.ReadAsByteArrayAsync());
        AssertNoSniff(response);
    }

    [Theory]
    [InlineData("/livechat", "Suara Pendengar")]
    [InlineData("/livechat/index.html", "Suara Pendengar")]
    [InlineData("/agent", "Agent console")]
    [InlineData("/agent/index.html", "Agent console")]
    public async Task APageHasThePagesPolicyAlsoByItsFileName(string path, string marker)
    {
        using var response = await Node.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(marker, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(StaticPages.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("frame-ancestors 'none'", StaticPages.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        AssertNoSniff(response);
    }

    /// <summary>
    /// Every HTML response, also Swagger UI's and the Orleans dashboard's (open here: this node
    /// has no dashboard credentials and the request is local), refuses to be framed by another
    /// site, under the tightest policy its page works with (the browser tests prove they work).
    /// </summary>
    [Theory]
    [InlineData("/", StaticPages.ContentSecurityPolicy)]
    [InlineData("/livechat", StaticPages.ContentSecurityPolicy)]
    [InlineData("/livechat/index.html", StaticPages.ContentSecurityPolicy)]
    [InlineData("/agent", StaticPages.ContentSecurityPolicy)]
    [InlineData("/swagger", StaticPages.SwaggerUiPolicy)]
    [InlineData("/swagger/index.html", StaticPages.SwaggerUiPolicy)]
    [InlineData("/swagger/oauth2-redirect.html", StaticPages.SwaggerUiPolicy)]
    [InlineData("/dashboard/", StaticPages.DashboardPolicy)]
    public async Task EveryHtmlPageRefusesToBeFramedUnderItsPolicy(string path, string policy)
    {
        using var response = await Node.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        AssertPageHeaders(response, policy);
    }

    /// <summary>What every HTML response carries: its policy with <c>frame-ancestors 'none'</c>, and the headers older browsers need.</summary>
    internal static void AssertPageHeaders(HttpResponseMessage response, string policy)
    {
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Equal(policy, csp);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("'unsafe-inline'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("'unsafe-eval'", csp, StringComparison.Ordinal);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        AssertNoSniff(response);
    }

    private static void AssertNoSniff(HttpResponseMessage response) =>
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
}
