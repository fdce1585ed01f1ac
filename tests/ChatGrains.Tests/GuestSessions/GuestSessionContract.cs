using ChatGrains.Grains;
using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.GuestSessions;

/// <summary>
/// POST /api/v1/chat/guest/session as spec 000 states it — create with minimal fields,
/// duplicate session_id — and every error it names, on each storage provider.
/// </summary>
public abstract class GuestSessionContract(TestNode node)
{
    [Fact]
    public async Task CreatingWithMinimalFieldsReturns201WithTheSessionAndNoMessages()
    {
        var sessionId = GuestSessionRequests.NewSessionId();

        using var response = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionId });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: true);
        Assert.Equal("Session created successfully", (string?)envelope["message"]);
        var session = envelope["data"]!["session"]!.AsObject();
        Assert.Matches("^[0-9a-f-]{36}$", (string)session["id"]!);
        Assert.Equal(sessionId, (string?)session["session_id"]);
        Assert.Null(session["guest_name"]);
        Assert.Null(session["guest_email"]);
        Assert.Null(session["guest_phone"]);
        Assert.Equal("active", (string?)session["status"]);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", (string)session["created_at"]!);
        Assert.Empty(envelope["data"]!["messages"]!.AsArray());
        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, sessionId));
    }

    [Fact]
    public async Task CreatingWithEveryFieldStoresThem()
    {
        var sessionId = GuestSessionRequests.NewSessionId();

        using var response = await node.Client.PostSessionAsync(new JsonObject
        {
            ["session_id"] = sessionId,
            ["guest_name"] = "  Guest  ",
            ["guest_email"] = "guest@example.com",
            ["guest_phone"] = "+62 812-3456-7890",
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var session = (await response.EnvelopeAsync())["data"]!["session"]!;
        Assert.Equal("Guest", (string?)session["guest_name"]);
        Assert.Equal("guest@example.com", (string?)session["guest_email"]);
        Assert.Equal("+62 812-3456-7890", (string?)session["guest_phone"]);
    }

    [Fact]
    public async Task AClientsOwnTraceparentDoesNotBecomeTheTraceId()
    {
        // The fixture's node trusts no proxy: see TraceIdTests for the proxy that is believed.
        using var request = new HttpRequestMessage(HttpMethod.Post, GuestSessionRequests.Path)
        {
            Content = JsonContent(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() }),
        };
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

        using var response = await node.Client.SendAsync(request);

        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: true);
        Assert.NotEqual("0af7651916cd43dd8448eb211c80319c", (string?)envelope["trace_id"]);
    }

    [Fact]
    public async Task ADuplicateSessionIdReturns200WithTheStoredSessionAndWritesNothing()
    {
        var sessionId = GuestSessionRequests.NewSessionId();
        using var first = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionId, ["guest_name"] = "First" });
        var created = (await first.EnvelopeAsync())["data"]!.ToJsonString();

        using var duplicate = await node.Client.PostSessionAsync(new JsonObject
        {
            ["session_id"] = sessionId,
            ["guest_name"] = "Second",
            ["guest_email"] = "second@example.com",
        });

        Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        var envelope = await duplicate.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, duplicate, success: true);
        Assert.Equal(created, envelope["data"]!.ToJsonString());
        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, sessionId));
    }

    // A duplicate's messages (its conversation's, oldest first): Conversations/GuestConversationTests.

    public static TheoryData<string, string> InvalidBodies() => new()
    {
        { """{"guest_name":"Guest"}""", "session_id" },
        { """{"session_id":""}""", "session_id" },
        { """{"session_id":null}""", "session_id" },
        { """{"session_id":"short"}""", "session_id" },
        { $$"""{"session_id":"{{new string('s', 129)}}"}""", "session_id" },
        { """{"session_id":"has spaces in it"}""", "session_id" },
        { """{"session_id":"<script>alert(1)</script>"}""", "session_id" },
        { """{"session_id":"3f8a1b3e-0c6f-4b1a-9f3a-8b1e2d7f9c21","guest_email":"not-an-email"}""", "guest_email" },
        { """{"session_id":"3f8a1b3e-0c6f-4b1a-9f3a-8b1e2d7f9c21","guest_phone":"call me"}""", "guest_phone" },
        { $$"""{"session_id":"3f8a1b3e-0c6f-4b1a-9f3a-8b1e2d7f9c21","guest_name":"{{new string('n', 101)}}"}""", "guest_name" },
        { """{"session_id":12345678901}""", "session_id" },
        { """{"session_id":"3f8a1b3e-0c6f-4b1a-9f3a-8b1e2d7f9c21","guest_name":{"first":"A"}}""", "guest_name" },
        { """{"session_id":"3f8a1b3e-0c6f-4b1a-9f3a-8b1e2d7f9c21","guest_phone":628123456789}""", "guest_phone" },
        { """{"session_id":"3f8a1b3e""", "body" },
        { """{"session_id":"aaaaaaaa"}""", "session_id" },
        { """{"session_id":"3f8a1b3e0c6f4b1a9f3a8b1e2d7f9c21"}""", "session_id" },
        { """{"session_id":"{3f8a1b3e-0c6f-4b1a-9f3a-8b1e2d7f9c21}"}""", "session_id" },
        { """{"session_id":"3f8a1b3e-0c6f-4b1a-9f3a-8b1e2d7f9c2"}""", "session_id" },
        { """{"session_id":"3f8a1b3e-0c6f-4b1a-9f3a-8b1e2d7f9c21","guest_email":"<svg/onload=alert(1)>@x.io"}""", "guest_email" },
        { """{"session_id":"3f8a1b3e-0c6f-4b1a-9f3a-8b1e2d7f9c21","guest_email":"a(b)@x.io"}""", "guest_email" },
    };

    [Fact]
    public async Task AGuessableSessionIdIsAnswered400AndReturnsNoStoredSession()
    {
        using var response = await node.Client.PostSessionAsync("""{"session_id":"aaaaaaaa","guest_name":"Zaphod"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: false);
        Assert.Equal("VALIDATION_FAILED", (string?)envelope["error"]!["code"]);
        Assert.Equal(["'session_id' must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."],
            envelope["error"]!["details"]!["session_id"]!.AsArray().Select(m => (string?)m));
        Assert.DoesNotContain("Zaphod", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, "aaaaaaaa"));
    }

    [Fact]
    public async Task ASessionIdInUpperCaseIsTheSameSessionAndComesBackInLowerCase()
    {
        var sessionId = GuestSessionRequests.NewSessionId();

        using var first = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionId.ToUpperInvariant(), ["guest_name"] = "First" });
        using var again = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionId, ["guest_name"] = "Second" });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(sessionId, (string?)(await first.EnvelopeAsync())["data"]!["session"]!["session_id"]);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var session = (await again.EnvelopeAsync())["data"]!["session"]!;
        Assert.Equal(sessionId, (string?)session["session_id"]);
        Assert.Equal("First", (string?)session["guest_name"]);
        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, sessionId));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, sessionId.ToUpperInvariant()));
    }

    public static TheoryData<string, string, string> HostileStrings() => new()
    {
        { "guest_name", @"Budi\ud800", "'guest_name' must not contain unpaired UTF-16 surrogates." },
        { "guest_name", @"\udc00", "'guest_name' must not contain unpaired UTF-16 surrogates." },
        { "guest_email", @"budi\ud800@example.com", "'guest_email' must not contain unpaired UTF-16 surrogates." },
        { "guest_phone", @"+62\ud800", "'guest_phone' must not contain unpaired UTF-16 surrogates." },
        { "session_id", @"\ud800", "'session_id' must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)." },
        { "guest_name", @"Budi\u202etxt.exe", "'guest_name' must not contain invisible format characters or line or paragraph separators." },
        { "guest_name", @"Bu\u200bdi", "'guest_name' must not contain invisible format characters or line or paragraph separators." },
        { "guest_name", @"Budi\u2028Santoso", "'guest_name' must not contain invisible format characters or line or paragraph separators." },
        { "guest_name", @"Budi\u2029Santoso", "'guest_name' must not contain invisible format characters or line or paragraph separators." },
    };

    [Theory]
    [MemberData(nameof(HostileStrings))]
    public async Task UnpairedSurrogatesAndInvisibleFormatCharactersAreAnswered400ValidationFailedAndWriteNothing(string field, string escaped, string message)
    {
        var sessionId = GuestSessionRequests.NewSessionId();
        var body = new JsonObject { ["session_id"] = sessionId, [field] = "@hostile@" };

        using var response = await node.Client.PostSessionAsync(body.ToJsonString().Replace("@hostile@", escaped, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: false);
        Assert.Equal("VALIDATION_FAILED", (string?)envelope["error"]!["code"]);
        Assert.Equal([message], envelope["error"]!["details"]![field]!.AsArray().Select(m => (string?)m));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, sessionId));
    }

    [Fact]
    public async Task MarkupInAStoredGuestNameComesBackHtmlEscapedAndLettersAsThemselves()
    {
        using var response = await node.Client.PostSessionAsync(new JsonObject
        {
            ["session_id"] = GuestSessionRequests.NewSessionId(),
            ["guest_name"] = "José Ñúñez <script>alert(1)</script>",
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains(@"José Ñúñez \u003Cscript\u003Ealert(1)\u003C/script\u003E", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", text, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task InvalidInputIsAnswered400ValidationFailedNamingTheFieldAndWritesNothing(string body, string field)
    {
        var before = await node.Database.GrainRecordsAsync(GrainStorage.GuestSession);

        using var response = await node.Client.PostSessionAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: false);
        Assert.Equal("VALIDATION_FAILED", (string?)envelope["error"]!["code"]);
        Assert.True(envelope["error"]!["details"]!.AsObject().ContainsKey(field), envelope.ToJsonString());
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, "3f8a1b3e-0c6f-4b1a-9f3a-8b1e2d7f9c21"));
        // The node is this class's alone and its tests run one at a time: exactly nothing.
        Assert.Equal(before, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession));
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("[]")]
    public async Task MalformedJsonIsAnswered400ValidationFailed(string body)
    {
        using var response = await node.Client.PostSessionAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: false);
        Assert.Equal("VALIDATION_FAILED", (string?)envelope["error"]!["code"]);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task NonJsonIsAnswered415InTheEnvelope(string contentType)
    {
        var sessionId = GuestSessionRequests.NewSessionId();

        using var response = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionId }.ToJsonString(), contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: false);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", (string?)envelope["error"]!["code"]);
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, sessionId));
    }

    [Fact]
    public async Task AnOversizedBodyIsAnswered413InTheEnvelope()
    {
        using var response = await node.Client.PostSessionAsync(new JsonObject
        {
            ["session_id"] = GuestSessionRequests.NewSessionId(),
            ["padding"] = new string(' ', 70_000),
        });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("PAYLOAD_TOO_LARGE", (string?)(await response.EnvelopeAsync())["error"]!["code"]);
    }

    [Fact]
    public async Task EveryResponseCarriesTheRateLimitHeaders()
    {
        using var response = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() });

        Assert.Matches("^\"per-client\";q=[0-9]+;w=60$", response.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Matches("^\"per-client\";r=[0-9]+;t=[0-9]+$", response.Headers.GetValues("RateLimit").Single());
    }

    private static StringContent JsonContent(JsonNode body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
}

public sealed class GuestSessionOnSqlite(SqliteNodeFixture fixture) : GuestSessionContract(fixture.Node), IClassFixture<SqliteNodeFixture>;

public sealed class GuestSessionOnPostgres(PostgresNodeFixture fixture) : GuestSessionContract(fixture.Node), IClassFixture<PostgresNodeFixture>;
