using System.Globalization;
using System.Net;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace ChatGrains.Tests.Operators;

/// <summary>
/// <c>Dashboard:FailedSignInsPerMinute</c> (10) failed Basic or sign-in attempts per client IP,
/// then 429 for every attempt, right or wrong; failures are logged, secrets never.
/// </summary>
[Trait("Category", "Operators")]
public sealed class FailedSignInLimitTests
{
    private const int Limit = 10;

    private static async Task<(TestNode Node, LogCapture Logs)> StartAsync(IReadOnlyDictionary<string, string?>? more = null)
    {
        var logs = new LogCapture();
        var node = await TestNode.StartOnSqliteAsync(
            DashboardCredentials.Settings(new Dictionary<string, string?>(more ?? new Dictionary<string, string?>())
            {
                ["Logging:LogLevel:Default"] = "Trace",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            }),
            builder =>
            {
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(logs);
            });
        return (node, logs);
    }

    private static void AssertTooManyAttempts(HttpResponseMessage response, string body)
    {
        Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"expected 429, got {(int)response.StatusCode}: {body}");
        var retryAfter = Assert.Single(response.Headers.GetValues("Retry-After"));
        var seconds = int.Parse(retryAfter, NumberStyles.None, CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, 60);
    }

    [Fact]
    public async Task TenWrongBasicAttemptsAre401AndTheEleventhAndEvenTheRightPasswordAre429()
    {
        var (node, _) = await StartAsync();
        await using var _node = node;
        using var client = new OperatorClient(node);
        var wrong = OperatorClient.Basic(DashboardCredentials.Username, "guess");
        var right = OperatorClient.Basic(DashboardCredentials.Username, DashboardCredentials.Password);

        for (var attempt = 1; attempt <= Limit; attempt++)
        {
            using var failed = await client.GetAsync("/dashboard/ClusterStats", wrong);
            await OperatorClient.AssertProblemAsync(failed, HttpStatusCode.Unauthorized, "An admin token or the dashboard's username and password are required.");
        }
        using var eleventh = await client.GetAsync("/dashboard/ClusterStats", wrong);
        using var correctWhileBlocked = await client.GetAsync("/dashboard/ClusterStats", right);
        using var metricsWhileBlocked = await client.GetAsync("/metrics", right);

        foreach (var blocked in new[] { eleventh, correctWhileBlocked, metricsWhileBlocked })
        {
            var body = await blocked.Content.ReadAsStringAsync();
            AssertTooManyAttempts(blocked, body);
            Assert.Contains("Too many failed sign-ins from this client; retry later.", body, StringComparison.Ordinal);
            Assert.Equal("application/problem+json", blocked.Content.Headers.ContentType?.MediaType);
        }
        // An admin token is not a guessable secret: it still opens the dashboard for that client.
        using var bearer = await client.GetAsync("/dashboard/ClusterStats", client.Bearer(Roles.Admin));
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
    }

    [Fact]
    public async Task FailedFormSignInsCountTooAndWhileBlockedTheSignInPageAnswers429()
    {
        var (node, _) = await StartAsync();
        await using var _node = node;
        using var client = new OperatorClient(node);
        var form = await client.OpenSignInAsync();

        for (var attempt = 1; attempt <= Limit; attempt++)
        {
            var token = attempt % 2 == 0 ? node.Token(Roles.Visitor, Guid.NewGuid()) : $"garbage-{attempt}";
            using var failed = await client.PostFormAsync("/dashboard/sign-in", form.Fields(token), ("Cookie", form.CookieHeader));
            Assert.Equal(attempt % 2 == 0 ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized, failed.StatusCode);
        }
        using var admin = await client.PostFormAsync("/dashboard/sign-in", form.Fields(node.Token(Roles.Admin, Guid.NewGuid())), ("Cookie", form.CookieHeader));
        var page = await admin.Content.ReadAsStringAsync();
        AssertTooManyAttempts(admin, page);
        Assert.Equal("text/html", admin.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Too many failed sign-ins from this address; try again in a minute.", page, StringComparison.Ordinal);
        Assert.DoesNotContain(OperatorClient.Cookies(admin), c => c.Name == "chatgrains-dashboard");
        // The same count guards Basic.
        using var basic = await client.GetAsync("/dashboard/ClusterStats", OperatorClient.Basic(DashboardCredentials.Username, DashboardCredentials.Password));
        AssertTooManyAttempts(basic, await basic.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheLimitIsPerClientAddressAsForwardedByATrustedProxy()
    {
        var (node, _) = await StartAsync(new Dictionary<string, string?> { ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" });
        await using var _node = node;
        using var client = new OperatorClient(node);
        var wrong = OperatorClient.Basic(DashboardCredentials.Username, "guess");
        var right = OperatorClient.Basic(DashboardCredentials.Username, DashboardCredentials.Password);

        for (var attempt = 1; attempt <= Limit; attempt++)
        {
            using var failed = await client.GetAsync("/dashboard/ClusterStats", wrong, ("X-Forwarded-For", "203.0.113.66"));
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }
        using var blocked = await client.GetAsync("/dashboard/ClusterStats", right, ("X-Forwarded-For", "203.0.113.66"));
        using var other = await client.GetAsync("/dashboard/ClusterStats", right, ("X-Forwarded-For", "203.0.113.67"));

        AssertTooManyAttempts(blocked, await blocked.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task FailuresFromAddressesOfOneIPv6Slash64CountAsOneClient()
    {
        var (node, _) = await StartAsync(new Dictionary<string, string?> { ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" });
        await using var _node = node;
        using var client = new OperatorClient(node);
        var wrong = OperatorClient.Basic(DashboardCredentials.Username, "guess");
        var right = OperatorClient.Basic(DashboardCredentials.Username, DashboardCredentials.Password);

        for (var attempt = 1; attempt <= Limit; attempt++)
        {
            using var failed = await client.GetAsync("/dashboard/ClusterStats", wrong, ("X-Forwarded-For", $"2001:db8:66:1::{attempt:x}"));
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }
        using var blocked = await client.GetAsync("/dashboard/ClusterStats", right, ("X-Forwarded-For", "2001:db8:66:1::abcd"));
        using var otherNetwork = await client.GetAsync("/dashboard/ClusterStats", right, ("X-Forwarded-For", "2001:db8:66:2::1"));

        AssertTooManyAttempts(blocked, await blocked.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, otherNetwork.StatusCode);
    }

    [Fact]
    public async Task AFailedSignInIsLoggedWithTheClientButNoSubmittedSecretReachesAnyLogLine()
    {
        var (node, logs) = await StartAsync();
        await using var _node = node;
        using var client = new OperatorClient(node);
        var form = await client.OpenSignInAsync();
        var garbage = $"garbage-token-{Guid.NewGuid():N}";
        var visitor = node.Token(Roles.Visitor, Guid.NewGuid());
        var admin = node.Token(Roles.Admin, Guid.NewGuid());
        var wrongPassword = $"wrong-password-{Guid.NewGuid():N}";
        var wrongBasic = OperatorClient.Basic(DashboardCredentials.Username, wrongPassword);
        var rightBasic = OperatorClient.Basic(DashboardCredentials.Username, DashboardCredentials.Password);

        using (var r = await client.PostFormAsync("/dashboard/sign-in", form.Fields(garbage), ("Cookie", form.CookieHeader)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }
        using (var r = await client.PostFormAsync("/dashboard/sign-in", form.Fields(visitor), ("Cookie", form.CookieHeader)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }
        using (var r = await client.PostFormAsync("/dashboard/sign-in", form.Fields(admin), ("Cookie", form.CookieHeader)))
        {
            Assert.Equal(HttpStatusCode.SeeOther, r.StatusCode);
        }
        using (var r = await client.GetAsync("/dashboard/ClusterStats", wrongBasic))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }
        using (var r = await client.GetAsync("/dashboard/ClusterStats", rightBasic))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        using (var r = await client.GetAsync("/dashboard/ClusterStats", new("Bearer", visitor)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }
        using (var r = await client.GetAsync("/dashboard/ClusterStats", new("Bearer", garbage)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        var lines = logs.Lines.ToList();
        Assert.True(lines.Count > 10, $"only {lines.Count} lines captured: logging at Trace was not on");
        Assert.Contains(lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("Failed dashboard sign-in (invalid token) from 127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("Failed dashboard sign-in (not an admin token) from 127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("Failed dashboard Basic sign-in from 127.0.0.1", StringComparison.Ordinal));
        var secrets = new Dictionary<string, string>
        {
            ["garbage token"] = garbage,
            ["visitor token"] = visitor,
            ["visitor token's signature"] = visitor.Split('.')[2],
            ["admin token"] = admin,
            ["admin token's signature"] = admin.Split('.')[2],
            ["wrong password"] = wrongPassword,
            ["wrong Basic credentials"] = wrongBasic.Parameter!,
            ["password"] = DashboardCredentials.Password,
            ["right Basic credentials"] = rightBasic.Parameter!,
            ["antiforgery token"] = form.RequestToken,
        };
        foreach (var (what, secret) in secrets)
        {
            var leak = lines.FirstOrDefault(l => l.Contains(secret, StringComparison.Ordinal));
            Assert.True(leak is null, $"the {what} is in a log line: {leak}");
        }
    }
}
