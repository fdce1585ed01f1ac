using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Operators;

/// <summary>
/// Who reaches the dashboard's JSON and <c>/metrics</c>: admins (Bearer or Basic), and a truly
/// local request only on a node with no dashboard credentials configured.
/// </summary>
[Trait("Category", "Operators")]
public sealed class OperatorAccessTests(OpenAndBasicNodesFixture fixture) : IClassFixture<OpenAndBasicNodesFixture>
{
    private const string AdminTokenRequired = "An admin token is required.";
    private const string AdminTokenOrBasicRequired = "An admin token or the dashboard's username and password are required.";

    public static TheoryData<string> OperatorPaths => new() { "/dashboard/ClusterStats", "/metrics" };

    private static readonly (string, string) Foreign = ("Host", OperatorClient.ForeignHost);

    /// <summary>200 with what the endpoint serves: the dashboard's JSON or a Prometheus scrape.</summary>
    private static async Task AssertOperatorContentAsync(HttpResponseMessage response, string path)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: expected 200, got {(int)response.StatusCode}: {text}");
        if (path == "/metrics")
        {
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("# TYPE ", text, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.IsType<JsonObject>(JsonNode.Parse(text));
        }
    }

    [Theory]
    [MemberData(nameof(OperatorPaths))]
    public async Task AnApiCallWithNoCredentialsFromANonLocalHostIs401ProblemWithABearerChallenge(string path)
    {
        using var client = new OperatorClient(fixture.Open);

        using var response = await client.GetAsync(path, null, Foreign);

        await OperatorClient.AssertProblemAsync(response, HttpStatusCode.Unauthorized, AdminTokenRequired);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).ToString());
    }

    [Theory]
    [MemberData(nameof(OperatorPaths))]
    public async Task ABrowserNavigationWithNoCredentialsIsRedirectedToTheSignInPage(string path)
    {
        using var client = new OperatorClient(fixture.WithBasic);

        using var response = await client.GetAsync(path, null, ("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard/sign-in", response.Headers.Location?.OriginalString);
        Assert.Empty(response.Headers.WwwAuthenticate);
    }

    [Theory]
    [MemberData(nameof(OperatorPaths))]
    public async Task AWrongBasicPasswordIs401(string path)
    {
        using var client = new OperatorClient(fixture.WithBasic);

        using var response = await client.GetAsync(path, OperatorClient.Basic(DashboardCredentials.Username, "not the password"));

        await OperatorClient.AssertProblemAsync(response, HttpStatusCode.Unauthorized, AdminTokenOrBasicRequired);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).ToString());
    }

    [Fact]
    public async Task BasicOnANodeWithNoCredentialsConfiguredIs401EvenFromLoopback()
    {
        using var client = new OperatorClient(fixture.Open);

        using var response = await client.GetAsync("/dashboard/ClusterStats", OperatorClient.Basic("admin", "admin"));

        await OperatorClient.AssertProblemAsync(response, HttpStatusCode.Unauthorized, AdminTokenRequired);
    }

    [Theory]
    [InlineData("/dashboard/ClusterStats", Roles.Visitor)]
    [InlineData("/dashboard/ClusterStats", Roles.Commercial)]
    [InlineData("/metrics", Roles.Visitor)]
    [InlineData("/metrics", Roles.Commercial)]
    public async Task AValidNonAdminBearerTokenIs403(string path, string role)
    {
        using var client = new OperatorClient(fixture.WithBasic);

        using var response = await client.GetAsync(path, client.Bearer(role), Foreign);

        await OperatorClient.AssertProblemAsync(response, HttpStatusCode.Forbidden, AdminTokenRequired);
    }

    [Fact]
    public async Task ABearerTokenSignedByAnotherNodeIs401()
    {
        using var client = new OperatorClient(fixture.WithBasic);
        var foreignToken = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", fixture.Open.Token(Roles.Admin, Guid.NewGuid()));

        using var response = await client.GetAsync("/dashboard/ClusterStats", foreignToken, Foreign);

        await OperatorClient.AssertProblemAsync(response, HttpStatusCode.Unauthorized, AdminTokenOrBasicRequired);
    }

    [Theory]
    [MemberData(nameof(OperatorPaths))]
    public async Task AnAdminRoleInAVisitorTypedTokenIs401(string path)
    {
        using var client = new OperatorClient(fixture.WithBasic);
        var disguised = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer",
            Chats.Tokens.Create(fixture.WithBasic, role: Roles.Admin, type: TokenTypes.Visitor));

        using var response = await client.GetAsync(path, disguised, Foreign);

        await OperatorClient.AssertProblemAsync(response, HttpStatusCode.Unauthorized, AdminTokenOrBasicRequired);
    }

    [Theory]
    [MemberData(nameof(OperatorPaths))]
    public async Task AnAdminBearerTokenFromANonLocalHostIs200WithTheContent(string path)
    {
        foreach (var node in new[] { fixture.Open, fixture.WithBasic })
        {
            using var client = new OperatorClient(node);

            using var response = await client.GetAsync(path, client.Bearer(Roles.Admin), Foreign, ("X-Forwarded-For", "8.8.8.8"));

            await AssertOperatorContentAsync(response, path);
        }
    }

    [Theory]
    [MemberData(nameof(OperatorPaths))]
    public async Task TheRightBasicCredentialsAre200(string path)
    {
        using var client = new OperatorClient(fixture.WithBasic);

        using var response = await client.GetAsync(path, OperatorClient.Basic(DashboardCredentials.Username, DashboardCredentials.Password), Foreign);

        await AssertOperatorContentAsync(response, path);
    }

    [Theory]
    [MemberData(nameof(OperatorPaths))]
    public async Task ATrulyLocalRequestWithNoCredentialsIs200OnANodeWithoutDashboardCredentials(string path)
    {
        using var client = new OperatorClient(fixture.Open);

        using var byAddress = await client.GetAsync(path); // Host: 127.0.0.1:<port>
        await AssertOperatorContentAsync(byAddress, path);
        using var byName = await client.GetAsync(path, null, ("Host", $"localhost:{fixture.Open.BaseAddress.Port}"));
        await AssertOperatorContentAsync(byName, path);
        using var byIpv6 = await client.GetAsync(path, null, ("Host", $"[::1]:{fixture.Open.BaseAddress.Port}"));
        await AssertOperatorContentAsync(byIpv6, path);
    }

    [Theory]
    [InlineData("/dashboard/ClusterStats", "X-Forwarded-For", "8.8.8.8")]
    [InlineData("/dashboard/ClusterStats", "Forwarded", "for=8.8.8.8")]
    [InlineData("/dashboard/ClusterStats", "Host", OperatorClient.ForeignHost)]
    [InlineData("/dashboard/ClusterStats", "Host", "127.0.0.1.nip.io")]
    [InlineData("/dashboard/ClusterStats", "X-Forwarded-Host", "evil.example")]
    [InlineData("/dashboard/ClusterStats", "X-Real-IP", "8.8.8.8")]
    [InlineData("/dashboard/ClusterStats", "X-Forwarded-Proto", "https")]
    [InlineData("/metrics", "X-Forwarded-For", "8.8.8.8")]
    [InlineData("/metrics", "Host", OperatorClient.ForeignHost)]
    public async Task ALoopbackRequestThatIsNotTrulyLocalIs401(string path, string header, string value)
    {
        using var client = new OperatorClient(fixture.Open);

        using var response = await client.GetAsync(path, null, (header, value));

        await OperatorClient.AssertProblemAsync(response, HttpStatusCode.Unauthorized, AdminTokenRequired);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).ToString());
    }

    [Fact]
    public async Task WithMetricsOffThereIsNoScrapeEndpoint()
    {
        // Test nodes run with Metrics:Enabled=false unless they read /metrics.
        await using var node = await TestNode.StartOnSqliteAsync();
        using var client = new OperatorClient(node);

        using var response = await client.GetAsync("/metrics", client.Bearer(Roles.Admin));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ANodeBehindTrustedProxiesTreatsNoRequestAsLocal()
    {
        // A proxy on the same machine that forwards no header would make every client look local.
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" });
        using var client = new OperatorClient(node);

        using var response = await client.GetAsync("/dashboard/ClusterStats");

        await OperatorClient.AssertProblemAsync(response, HttpStatusCode.Unauthorized, AdminTokenRequired);
    }

    [Theory]
    [MemberData(nameof(OperatorPaths))]
    public async Task ATrulyLocalRequestWithNoCredentialsIs401WhenBasicIsConfigured(string path)
    {
        using var client = new OperatorClient(fixture.WithBasic);

        using var response = await client.GetAsync(path);

        await OperatorClient.AssertProblemAsync(response, HttpStatusCode.Unauthorized, AdminTokenOrBasicRequired);
    }

    [Fact]
    public async Task OnlyOneHalfOfTheCredentialsConfiguredStillTurnsTheLoopbackExceptionOff()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["Dashboard:Password"] = "half" });
        using var client = new OperatorClient(node);

        using var response = await client.GetAsync("/dashboard/ClusterStats");

        await OperatorClient.AssertProblemAsync(response, HttpStatusCode.Unauthorized, AdminTokenRequired);
    }
}
