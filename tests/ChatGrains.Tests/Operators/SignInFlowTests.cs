using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Operators;

/// <summary>
/// A node with dashboard credentials (so loopback alone opens nothing) behind a trusted proxy on
/// 127.0.0.1 (so <c>X-Forwarded-Proto: https</c> makes a request HTTPS).
/// </summary>
public sealed class SignInNodeFixture : IAsyncLifetime
{
    public TestNode Node { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Node = await TestNode.StartOnSqliteAsync(DashboardCredentials.Settings(new Dictionary<string, string?>
        {
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
        }));

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>The sign-in page: an admin token in an antiforgery-protected form becomes the dashboard cookie.</summary>
[Trait("Category", "Operators")]
public sealed class SignInFlowTests(SignInNodeFixture fixture) : IClassFixture<SignInNodeFixture>
{
    private const string CookieName = "chatgrains-dashboard";

    private static readonly (string, string)[] OverHttps = [("X-Forwarded-Proto", "https"), ("X-Forwarded-For", "203.0.113.7")];

    private static async Task<string> AssertPageAsync(HttpResponseMessage response, HttpStatusCode status, string? text)
    {
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {html}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<form method=\"post\" action=\"/dashboard/sign-in\">", html, StringComparison.Ordinal);
        if (text is not null)
        {
            Assert.Contains($"<p class=\"error\" role=\"alert\">{text}</p>", html, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(response.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith(CookieName + "=", StringComparison.Ordinal)));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Contains("frame-ancestors 'none'", Assert.Single(response.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        return html;
    }

    [Fact]
    public async Task TheSignInPageIsHtmlWithAStrictContentSecurityPolicyAndAnAntiforgeryField()
    {
        using var client = new OperatorClient(fixture.Node);

        using var response = await client.GetAsync("/dashboard/sign-in", null, ("Accept", "text/html"));

        var html = await AssertPageAsync(response, HttpStatusCode.OK, null);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("form-action 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Matches("""<input type="hidden" name="__RequestVerificationToken" value="[^"]{20,}">""", html);
        Assert.Contains("""<textarea id="token" name="token" """, html, StringComparison.Ordinal);
        Assert.Contains(OperatorClient.Cookies(response), c => c.Name == "chatgrains-antiforgery" && c.Has("httponly") && c.Has("samesite=strict"));
    }

    [Fact]
    public async Task TheSignInPagesHintIsTheReadmesAdminTokenCommand()
    {
        using var client = new OperatorClient(fixture.Node);
        const string Command = "dotnet run --project ApiGateway -- token --role admin --sub ";

        using var response = await client.GetAsync("/dashboard/sign-in", null, ("Accept", "text/html"));

        var html = await AssertPageAsync(response, HttpStatusCode.OK, null);
        Assert.Contains($"<code>{Command}&lt;uuid&gt;</code>", html, StringComparison.Ordinal);
        Assert.Contains(Command, await File.ReadAllTextAsync(RepositoryPaths.Of("README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASignInPostWithoutTheAntiforgeryFieldIs400AndSetsNoCookie()
    {
        using var client = new OperatorClient(fixture.Node);
        var form = await client.OpenSignInAsync();
        var admin = fixture.Node.Token(Roles.Admin, Guid.NewGuid());

        using var noField = await client.PostFormAsync("/dashboard/sign-in", [new("token", admin)], ("Cookie", form.CookieHeader));
        using var noCookie = await client.PostFormAsync("/dashboard/sign-in", form.Fields(admin));

        foreach (var response in new[] { noField, noCookie })
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {body}");
            Assert.Null(response.Headers.Location);
            Assert.DoesNotContain(OperatorClient.Cookies(response), c => c.Name == CookieName);
        }
    }

    [Theory]
    [InlineData(Roles.Visitor)]
    [InlineData(Roles.Commercial)]
    public async Task ASignInWithAValidNonAdminTokenIsThe403Page(string role)
    {
        using var client = new OperatorClient(fixture.Node);
        var form = await client.OpenSignInAsync();

        using var response = await client.PostFormAsync("/dashboard/sign-in", form.Fields(fixture.Node.Token(role, Guid.NewGuid())), ("Cookie", form.CookieHeader));

        await AssertPageAsync(response, HttpStatusCode.Forbidden, "That token is valid but not an admin token.");
    }

    [Fact]
    public async Task ASignInWithAGarbageTokenIsThe401Page()
    {
        using var client = new OperatorClient(fixture.Node);
        var form = await client.OpenSignInAsync();

        using var response = await client.PostFormAsync("/dashboard/sign-in", form.Fields("eyJhbGciOiJub25lIn0.eyJyb2xlIjoiYWRtaW4ifQ."), ("Cookie", form.CookieHeader));

        await AssertPageAsync(response, HttpStatusCode.Unauthorized, "That token is not valid (signature, issuer, audience or expiry).");
    }

    [Fact]
    public async Task AnAdminSignInSetsAStrictHttpOnlyCookieThatOpensTheDashboardUntilSignOut()
    {
        using var client = new OperatorClient(fixture.Node);
        using (var before = await client.GetAsync("/dashboard/ClusterStats"))
        {
            await OperatorClient.AssertProblemAsync(before, HttpStatusCode.Unauthorized, "An admin token or the dashboard's username and password are required.");
        }
        var form = await client.OpenSignInAsync();

        using var signIn = await client.PostFormAsync("/dashboard/sign-in", form.Fields(fixture.Node.Token(Roles.Admin, Guid.NewGuid())), ("Cookie", form.CookieHeader));

        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal("/dashboard/", signIn.Headers.Location?.OriginalString);
        var cookie = Assert.Single(OperatorClient.Cookies(signIn), c => c.Name == CookieName);
        Assert.NotEmpty(cookie.Value);
        Assert.True(cookie.Has("httponly"), cookie.Raw);
        Assert.True(cookie.Has("samesite=strict"), cookie.Raw);
        Assert.False(cookie.Has("secure"), $"plain HTTP, yet: {cookie.Raw}");
        Assert.Contains("path=/", cookie.Attributes);
        var session = $"{form.CookieHeader}; {CookieName}={cookie.Value}";

        using (var stats = await client.GetAsync("/dashboard/ClusterStats", null, ("Cookie", session), ("Host", OperatorClient.ForeignHost)))
        {
            Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
            Assert.IsType<JsonObject>(JsonNode.Parse(await stats.Content.ReadAsStringAsync()));
        }
        using (var page = await client.GetAsync("/dashboard/", null, ("Cookie", session), ("Accept", "text/html")))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<html", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        }
        using (var metrics = await client.GetAsync("/metrics", null, ("Cookie", session)))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }

        using var signOut = await client.PostFormAsync("/dashboard/sign-out", form.Fields(null), ("Cookie", session));

        Assert.Equal(HttpStatusCode.SeeOther, signOut.StatusCode);
        Assert.Equal("/dashboard/sign-in", signOut.Headers.Location?.OriginalString);
        var cleared = Assert.Single(OperatorClient.Cookies(signOut), c => c.Name == CookieName);
        Assert.Equal("", cleared.Value);
        Assert.Contains(cleared.Attributes, a => a.StartsWith("expires=thu, 01 jan 1970", StringComparison.Ordinal));
        // The browser drops the cleared cookie: what it then sends is the antiforgery cookie alone.
        using var afterApi = await client.GetAsync("/dashboard/ClusterStats", null, ("Cookie", form.CookieHeader));
        await OperatorClient.AssertProblemAsync(afterApi, HttpStatusCode.Unauthorized, "An admin token or the dashboard's username and password are required.");
        using var afterPage = await client.GetAsync("/dashboard/", null, ("Cookie", form.CookieHeader), ("Accept", "text/html"));
        Assert.Equal(HttpStatusCode.Redirect, afterPage.StatusCode);
        Assert.Equal("/dashboard/sign-in", afterPage.Headers.Location?.OriginalString);
    }

    /// <summary>
    /// Clearing the cookie only asks the browser to forget it: a copy (a stolen cookie, another
    /// tab's jar) replayed after sign-out is answered as no credentials at all, and told to go.
    /// </summary>
    [Fact]
    public async Task ACookieReplayedAfterSignOutIsAnsweredAsNoCookie()
    {
        using var client = new OperatorClient(fixture.Node);
        var (form, session) = await client.SignInAsync(fixture.Node.Token(Roles.Admin, Guid.NewGuid()));
        using (var before = await client.GetAsync("/dashboard/ClusterStats", null, ("Cookie", session)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await client.SignOutAsync(form, session);

        using var api = await client.GetAsync("/dashboard/ClusterStats", null, ("Cookie", session));
        await OperatorClient.AssertProblemAsync(api, HttpStatusCode.Unauthorized, OperatorClient.NoCredentials);
        Assert.Equal("", Assert.Single(OperatorClient.Cookies(api), c => c.Name == CookieName).Value);
        using var metrics = await client.GetAsync("/metrics", null, ("Cookie", session));
        await OperatorClient.AssertProblemAsync(metrics, HttpStatusCode.Unauthorized, OperatorClient.NoCredentials);
        using var page = await client.GetAsync("/dashboard/", null, ("Cookie", session), ("Accept", "text/html"));
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/dashboard/sign-in", page.Headers.Location?.OriginalString);
    }

    /// <summary>The revocation is stored: a restarted node still refuses the cookie, and refuses only that session.</summary>
    [Fact]
    public async Task ASignedOutCookieStaysRefusedAfterTheNodeRestartsWhileAnotherSessionStaysOpen()
    {
        var path = Path.Combine(Path.GetTempPath(), $"chatgrains-node-{Guid.NewGuid():N}", "chatgrains.db");
        var settings = DashboardCredentials.Settings(new Dictionary<string, string?> { ["Storage:SqlitePath"] = path });
        string signedOut, open;
        await using (var first = await TestNode.StartAsync(settings, new SqliteTestDatabase(path)))
        {
            using var client = new OperatorClient(first);
            var admin = first.Token(Roles.Admin, Guid.NewGuid());
            (_, open) = await client.SignInAsync(admin);
            var (form, session) = await client.SignInAsync(admin);
            await client.SignOutAsync(form, session);
            signedOut = session;
        }

        await using var restarted = await TestNode.StartAsync(settings, new SqliteTestDatabase(path));
        using var again = new OperatorClient(restarted);

        using var refused = await again.GetAsync("/dashboard/ClusterStats", null, ("Cookie", signedOut));
        await OperatorClient.AssertProblemAsync(refused, HttpStatusCode.Unauthorized, OperatorClient.NoCredentials);
        using var stillOpen = await again.GetAsync("/dashboard/ClusterStats", null, ("Cookie", open));
        Assert.Equal(HttpStatusCode.OK, stillOpen.StatusCode);
    }

    [Fact]
    public async Task ASignOutPostWithoutTheAntiforgeryFieldIs400AndKeepsTheSession()
    {
        using var client = new OperatorClient(fixture.Node);
        var form = await client.OpenSignInAsync();
        using var signIn = await client.PostFormAsync("/dashboard/sign-in", form.Fields(fixture.Node.Token(Roles.Admin, Guid.NewGuid())), ("Cookie", form.CookieHeader));
        var session = $"{form.CookieHeader}; {CookieName}={OperatorClient.Cookies(signIn).Single(c => c.Name == CookieName).Value}";

        using var signOut = await client.PostFormAsync("/dashboard/sign-out", [new("reason", "forged")], ("Cookie", session));

        Assert.Equal(HttpStatusCode.BadRequest, signOut.StatusCode);
        Assert.DoesNotContain(OperatorClient.Cookies(signOut), c => c.Name == CookieName);
        using var stats = await client.GetAsync("/dashboard/ClusterStats", null, ("Cookie", session));
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
    }

    [Fact]
    public async Task OverHttpsThroughTheTrustedProxyTheCookieIsAlsoSecure()
    {
        using var client = new OperatorClient(fixture.Node);
        var form = await client.OpenSignInAsync(OverHttps);

        using var signIn = await client.PostFormAsync("/dashboard/sign-in", form.Fields(fixture.Node.Token(Roles.Admin, Guid.NewGuid())), [("Cookie", form.CookieHeader), .. OverHttps]);

        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        Assert.Equal("/dashboard/", signIn.Headers.Location?.OriginalString);
        var cookie = Assert.Single(OperatorClient.Cookies(signIn), c => c.Name == CookieName);
        Assert.True(cookie.Has("secure"), cookie.Raw);
        Assert.True(cookie.Has("httponly"), cookie.Raw);
        Assert.True(cookie.Has("samesite=strict"), cookie.Raw);
        using var stats = await client.GetAsync("/dashboard/ClusterStats", null, [("Cookie", $"{CookieName}={cookie.Value}"), .. OverHttps]);
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
    }

    [Fact]
    public async Task XForwardedProtoFromAnUntrustedPeerDoesNotMakeTheCookieSecure()
    {
        await using var direct = await TestNode.StartOnSqliteAsync(DashboardCredentials.Settings());
        using var client = new OperatorClient(direct);
        var form = await client.OpenSignInAsync(OverHttps);

        using var signIn = await client.PostFormAsync("/dashboard/sign-in", form.Fields(direct.Token(Roles.Admin, Guid.NewGuid())), [("Cookie", form.CookieHeader), .. OverHttps]);

        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        var cookie = Assert.Single(OperatorClient.Cookies(signIn), c => c.Name == CookieName);
        Assert.False(cookie.Has("secure"), cookie.Raw);
    }
}
