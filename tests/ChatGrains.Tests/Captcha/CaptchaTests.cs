using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.Grains;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;
using ChatGrains.Tests.LiveChat;
using Microsoft.Extensions.Logging;

namespace ChatGrains.Tests.Captcha;

/// <summary>One node with hCaptcha on <c>POST /livechat/session</c> (the default endpoint), against the fake verifier.</summary>
public sealed class CaptchaFixture : IAsyncLifetime
{
    public FakeSiteVerify Verifier { get; private set; } = null!;

    public TestNode Node { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    public async Task InitializeAsync()
    {
        Verifier = await FakeSiteVerify.StartAsync();
        var settings = Verifier.Settings();
        settings["Logging:LogLevel:Default"] = "Trace";
        settings["Logging:LogLevel:Orleans"] = "Warning";
        Node = await TestNode.StartOnSqliteAsync(settings, builder => builder.Logging.AddProvider(Logs));
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await Verifier.DisposeAsync();
    }
}

public sealed class CaptchaTests(CaptchaFixture fixture) : IClassFixture<CaptchaFixture>
{
    private TestNode Node => fixture.Node;

    private FakeSiteVerify Verifier => fixture.Verifier;

    private static JsonObject Budi(string? captchaToken)
    {
        var body = LiveChatRequests.Budi();
        if (captchaToken is not null)
        {
            body["captchaToken"] = captchaToken;
        }
        return body;
    }

    private Task<long> SessionsAsync() => Node.Database.GrainRecordsAsync(GrainStorage.LiveChatSession);

    [Fact]
    public async Task APassingTokenStartsTheSessionAndIsVerifiedWithTheClientsIp()
    {
        var token = $"pass-{Guid.NewGuid()}";

        using var response = await Node.Client.PostLiveChatAsync(Budi(token));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var call = Assert.Single(Verifier.Calls, c => c["response"] == token);
        Assert.Equal(FakeSiteVerify.Secret, call["secret"]);
        Assert.Equal("127.0.0.1", call["remoteip"]);
        Assert.Equal(FakeSiteVerify.SiteKey, call["sitekey"]);
    }

    [Theory]
    [InlineData(null, "Verifikasi captcha wajib diselesaikan.")]
    [InlineData("", "Verifikasi captcha wajib diselesaikan.")]
    [InlineData("invalid", "Verifikasi captcha gagal atau sudah kedaluwarsa; silakan ulangi.")]
    public async Task AMissingOrRejectedTokenIs422OnCaptchaTokenAndNothingIsWritten(string? token, string message)
    {
        var before = await SessionsAsync();

        using var response = await Node.Client.PostLiveChatAsync(Budi(token));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["errors"] = new JsonObject { ["captchaToken"] = new JsonArray(message) } }, await response.BodyAsync()));
        Assert.Equal(before, await SessionsAsync());
    }

    [Fact]
    public async Task TheMessagesAreEnglishForAnEnglishClient()
    {
        using var missing = await Node.Client.PostLiveChatAsync(Budi(null), acceptLanguage: "en");
        using var rejected = await Node.Client.PostLiveChatAsync(Budi("invalid"), acceptLanguage: "en-GB,en;q=0.9");

        Assert.Equal("The captcha must be completed.", (string?)(await missing.BodyAsync())["errors"]!["captchaToken"]![0]);
        Assert.Equal("The captcha failed or has expired; please solve it again.", (string?)(await rejected.BodyAsync())["errors"]!["captchaToken"]![0]);
    }

    [Fact]
    public async Task ATokenUsedTwiceIsRejectedTheSecondTime()
    {
        var token = $"pass-{Guid.NewGuid()}";
        using var first = await Node.Client.PostLiveChatAsync(Budi(token));
        var before = await SessionsAsync();

        using var second = await Node.Client.PostLiveChatAsync(Budi(token));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, second.StatusCode);
        Assert.Equal(before, await SessionsAsync());
        // Asked twice: a success is never cached.
        Assert.Equal(2, Verifier.Calls.Count(c => c["response"] == token));
    }

    [Theory]
    [InlineData("slow")]
    [InlineData("boom")]
    [InlineData("misconfigured")]
    public async Task AVerifierThatCannotSayIs503WithRetryAfterAndNothingIsWritten(string token)
    {
        var before = await SessionsAsync();

        using var response = await Node.Client.PostLiveChatAsync(Budi(token));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["message"] = "Layanan sedang tidak tersedia; coba lagi nanti." }, await response.BodyAsync()));
        Assert.Equal(before, await SessionsAsync());
    }

    [Fact]
    public async Task AnInvalidBodyIsRefusedWithoutAskingTheVerifier()
    {
        var token = $"pass-{Guid.NewGuid()}";
        var body = Budi(token);
        body["name"] = "<script>";

        using var response = await Node.Client.PostLiveChatAsync(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Null((await response.BodyAsync())["errors"]!["captchaToken"]);
        Assert.DoesNotContain(Verifier.Calls, c => c["response"] == token);
    }

    [Fact]
    public async Task NeitherTheSecretNorATokenReachesALogLine()
    {
        var token = $"pass-{Guid.NewGuid()}";
        // Each path taken, as its answer shows: verified, refused as reused, verifier down, misconfigured.
        foreach (var (captcha, expected) in new[]
                 {
                     (token, HttpStatusCode.Created), (token, HttpStatusCode.UnprocessableEntity),
                     ("boom", HttpStatusCode.ServiceUnavailable), ("misconfigured", HttpStatusCode.ServiceUnavailable),
                 })
        {
            using var response = await Node.Client.PostLiveChatAsync(Budi(captcha));
            Assert.Equal(expected, response.StatusCode);
        }

        Assert.Contains(fixture.Logs.Lines, line => line.Contains("captcha", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(FakeSiteVerify.Secret, StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheGuestSessionEndpointIsNotGuardedUnlessConfigured()
    {
        using var response = await Node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}

/// <summary>Other configurations: each test owns its node.</summary>
public sealed class CaptchaConfigurationTests
{
    [Fact]
    public async Task TurnstileOnTheGuestSessionEndpointRequiresCaptchaTokenInThatApisFormat()
    {
        await using var verifier = await FakeSiteVerify.StartAsync();
        await using var node = await TestNode.StartOnSqliteAsync(verifier.Settings("turnstile", "guest-session"));
        var sessionId = GuestSessionRequests.NewSessionId();

        using var missing = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionId });
        using var rejected = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionId, ["captcha_token"] = "invalid" });
        using var passed = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionId, ["captcha_token"] = $"pass-{Guid.NewGuid()}" });
        using var liveChat = await node.Client.PostLiveChatAsync(LiveChatRequests.Budi());

        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        var error = (await missing.EnvelopeAsync())["error"]!;
        Assert.Equal("VALIDATION_FAILED", (string?)error["code"]);
        Assert.NotNull(error["details"]!["captcha_token"]);
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        Assert.NotNull((await rejected.EnvelopeAsync())["error"]!["details"]!["captcha_token"]);
        Assert.Equal(HttpStatusCode.Created, passed.StatusCode);
        // Only the endpoints named are guarded.
        Assert.Equal(HttpStatusCode.Created, liveChat.StatusCode);
        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, sessionId));
    }

    [Fact]
    public async Task RequestsPastTheRateLimitCostNoVerifierCall()
    {
        await using var verifier = await FakeSiteVerify.StartAsync();
        var settings = verifier.Settings();
        settings["RateLimiting:PermitsPerMinute"] = "2";
        await using var node = await TestNode.StartOnSqliteAsync(settings);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            var body = LiveChatRequests.Budi();
            body["captchaToken"] = $"pass-{Guid.NewGuid()}";
            using var response = await node.Client.PostLiveChatAsync(body);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(2, verifier.Calls.Count);
    }

    [Theory]
    [InlineData("recaptcha", null)]
    [InlineData("hcaptcha", "")]
    public async Task AnIncompleteConfigurationStopsTheNodeAtStart(string provider, string? secret)
    {
        var settings = new Dictionary<string, string?> { ["Captcha:Provider"] = provider, ["Captcha:SecretKey"] = secret, ["Captcha:SiteKey"] = "site" };

        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await (await TestNode.StartOnSqliteAsync(settings)).DisposeAsync());

        Assert.Contains("Captcha:", error.ToString(), StringComparison.Ordinal);
    }
}
