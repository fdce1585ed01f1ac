using ChatGrains.Grains;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatGrains.Tests.LiveChat;

/// <summary>
/// POST /livechat/session as spec 001 states it — scenarios 1 and 3, the negative test data,
/// cookies, token — on each storage provider, checking the stored rows.
/// </summary>
public abstract class LiveChatSessionContract(TestNode node)
{
    [Fact]
    public async Task ANewGuestGets201WithASessionTokenAndRowsAreStored()
    {
        var before = DateTimeOffset.UtcNow;

        using var response = await node.Client.PostLiveChatAsync(LiveChatRequests.Budi());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.BodyAsync();
        var token = new JsonWebToken((string)body["sessionToken"]!);
        var sessionId = Guid.Parse((string)body["sessionId"]!);
        var userId = Guid.Parse((string)body["userId"]!);
        Assert.Equal("RS256", token.Alg);
        Assert.Equal("visitor+jwt", token.Typ);
        Assert.False(string.IsNullOrEmpty(token.Kid));
        Assert.Equal("chatgrains", token.Issuer);
        Assert.Equal(["chatgrains"], token.Audiences);
        Assert.Equal(userId.ToString(), token.Subject);
        Assert.Equal(sessionId.ToString(), token.GetClaim("sid").Value);
        Assert.Equal("visitor", token.GetClaim("role").Value);
        Assert.True(Guid.TryParse(token.Id, out _));
        Assert.InRange(token.ValidTo - token.IssuedAt, TimeSpan.FromHours(23.99), TimeSpan.FromHours(24.01));
        Assert.InRange(token.IssuedAt, before.UtcDateTime.AddSeconds(-2), DateTime.UtcNow.AddSeconds(2));
        Assert.Equal(token.IssuedAt, token.ValidFrom);
        Assert.Equal(token.ValidTo, DateTime.Parse((string)body["expiresAt"]!, System.Globalization.CultureInfo.InvariantCulture).ToUniversalTime());

        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.LiveChatSession, sessionId));
        var stored = Assert.Single(await node.Database.GrainPayloadsAsync(GrainStorage.LiveChatSession, sessionId));
        Assert.Equal(userId, (Guid?)stored["Value"]!["User"]!["Id"]);
        var started = Assert.Single(await node.Database.EventsAboutAsync(EventTypes.LiveChatSessionStarted, data => (Guid?)data["Id"] == sessionId));
        Assert.Equal(userId, (Guid?)started.Data["User"]!["Id"]);
    }

    [Fact]
    public async Task TheUsersNameCityAndCountryAreSetAsOneYearCookiesThePageCanRead()
    {
        using var response = await node.Client.PostLiveChatAsync(new JsonObject { ["name"] = "Siti Aminah", ["city"] = "Daerah Istimewa Yogyakarta", ["country"] = "Côte d'Ivoire" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var cookies = response.Headers.GetValues("Set-Cookie").ToList();
        Assert.Equal(3, cookies.Count);
        AssertCookie(cookies, "livechat_name", "Siti%20Aminah");
        AssertCookie(cookies, "livechat_city", "Daerah%20Istimewa%20Yogyakarta");
        AssertCookie(cookies, "livechat_country", "C%C3%B4te%20d%27Ivoire");
    }

    private static void AssertCookie(List<string> cookies, string name, string encodedValue)
    {
        var cookie = Assert.Single(cookies, c => c.StartsWith(name + "=", StringComparison.Ordinal));
        var parts = cookie.Split("; ").ToList();
        Assert.Equal($"{name}={encodedValue}", parts[0]);
        Assert.Contains("max-age=31536000", parts, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("path=/", parts, StringComparer.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", parts, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain("httponly", parts, StringComparer.OrdinalIgnoreCase);
        // Plain HTTP here; over HTTPS the cookie is Secure.
        Assert.DoesNotContain("secure", parts, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task TheSessionTokenOpensTheVisitorsOwnChatAndNoOtherOne()
    {
        using var started = await node.Client.PostLiveChatAsync(LiveChatRequests.Budi());
        var body = await started.BodyAsync();
        var userId = Guid.Parse((string)body["userId"]!);
        using var visitor = new HttpClient { BaseAddress = node.BaseAddress };
        visitor.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)body["sessionToken"]!);
        await Conversation.SignInAsync(node, ChatRequests.Commercials);

        using var own = await visitor.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(userId));
        using var other = await visitor.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
    }

    [Fact]
    public async Task TheSessionTokenVerifiesAgainstTheJwksDocumentWithAStandardLibrary()
    {
        using var started = await node.Client.PostLiveChatAsync(LiveChatRequests.Budi());
        var token = (string)(await started.BodyAsync())["sessionToken"]!;
        var jwks = new JsonWebKeySet(await node.Client.GetStringAsync(new Uri("/.well-known/jwks.json", UriKind.Relative)));

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "chatgrains",
            ValidAudience = "chatgrains",
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = ["RS256"],
        });

        Assert.True(result.IsValid, result.Exception?.Message);
    }

    [Fact]
    public async Task AnEmptyNameIsAnswered422WithTheSpecsErrorMap()
    {
        using var response = await node.Client.PostLiveChatAsync("""{"name": ""}""");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.BodyAsync())["errors"]!.AsObject();
        Assert.Equal(["Nama wajib diisi."], errors["name"]!.AsArray().Select(m => (string?)m));
        Assert.Equal(["Kota wajib diisi."], errors["city"]!.AsArray().Select(m => (string?)m));
        Assert.Equal(["Negara wajib diisi."], errors["country"]!.AsArray().Select(m => (string?)m));
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    public static TheoryData<string, string, string> InvalidBodies() => new()
    {
        { """{"name": null, "city": "Solo", "country": "Indonesia"}""", "name", "Nama wajib diisi." },
        { """{"name": "Budi", "city": "S", "country": "Indonesia"}""", "city", "Kota minimal 2 karakter." },
        { $$"""{"name": "{{new string('a', 101)}}", "city": "Solo", "country": "Indonesia"}""", "name", "Nama maksimal 100 karakter." },
        { """{"name": "Budi", "city": "Solo", "country": "   "}""", "country", "Negara wajib diisi." },
        { """{"name": "Bu\u0000di", "city": "Solo", "country": "Indonesia"}""", "name", "Nama hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": "<script>alert(1)</script>", "city": "Solo", "country": "Indonesia"}""", "name", "Nama hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": "Budi", "city": "\"><img src=x onerror=alert(1)>", "country": "Indonesia"}""", "city", "Kota hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": 42, "city": "Solo", "country": "Indonesia"}""", "name", "Nama harus berupa teks." },
        { """{"name": "Budi", "city": ["Solo"], "country": "Indonesia"}""", "city", "Kota harus berupa teks." },
        { """{"name": "Budi", "city": """, "body", "Body permintaan harus berupa JSON yang valid." },
        { "not json", "body", "Body permintaan harus berupa JSON yang valid." },
        { """{"name": "Budi\ud800", "city": "Solo", "country": "Indonesia"}""", "name", "Nama hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": "\udc00Budi", "city": "Solo", "country": "Indonesia"}""", "name", "Nama hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": "Budi", "city": "So\ud800lo", "country": "Indonesia"}""", "city", "Kota hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": "Budi", "city": "Solo", "country": "Indo\udbffnesia"}""", "country", "Negara hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": "Budi \u202eidub", "city": "Solo", "country": "Indonesia"}""", "name", "Nama hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": "Bu\u200bdi", "city": "Solo", "country": "Indonesia"}""", "name", "Nama hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": "Budi", "city": "So\u2028lo", "country": "Indonesia"}""", "city", "Kota hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": "Budi", "city": "Solo", "country": "Indo\u2029nesia"}""", "country", "Negara hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { """{"name": "Budi", "city": "Solo", "country": "Indo\ufeffnesia"}""", "country", "Negara hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( )." },
        { "", "body", "Body permintaan harus berupa JSON yang valid." },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task InvalidInputIsAnswered422InIndonesianAndNothingIsWritten(string body, string field, string message)
    {
        var sessions = await node.Database.GrainRecordsAsync(GrainStorage.LiveChatSession);
        var users = await UsersNamedAsync("Budi");

        using var response = await node.Client.PostLiveChatAsync(body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.BodyAsync())["errors"]!.AsObject();
        Assert.Equal(message, (string?)errors[field]![0]);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        // The node is this class's alone and its tests run one at a time: exactly nothing.
        Assert.Equal(sessions, await node.Database.GrainRecordsAsync(GrainStorage.LiveChatSession));
        Assert.Equal(users, await UsersNamedAsync("Budi"));
    }

    [Fact]
    public async Task AnOversizedBodyIsAnswered413InIndonesianAndNothingIsWritten()
    {
        var sessions = await node.Database.GrainRecordsAsync(GrainStorage.LiveChatSession);

        using var response = await node.Client.PostLiveChatAsync(new JsonObject
        {
            ["name"] = "Budi",
            ["city"] = "Solo",
            ["country"] = "Indonesia",
            ["padding"] = new string(' ', 70_000),
        });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("Body permintaan terlalu besar.", (string?)(await response.BodyAsync())["message"]);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Equal(sessions, await node.Database.GrainRecordsAsync(GrainStorage.LiveChatSession));
    }

    /// <summary>Guest users named so: each is stored inside the live-chat session that created it.</summary>
    private async Task<int> UsersNamedAsync(string name) =>
        (await node.Database.GrainPayloadsAsync(GrainStorage.LiveChatSession)).Count(p => (string?)p["Value"]!["User"]!["Name"] == name);

    [Theory]
    [InlineData("en")]
    [InlineData("en-US,en;q=0.9,id;q=0.8")]
    public async Task AClientPreferringEnglishGetsEnglishMessages(string acceptLanguage)
    {
        using var response = await node.Client.PostLiveChatAsync("""{"name": "", "city": "S", "country": "Indonesia"}""", acceptLanguage: acceptLanguage);

        var errors = (await response.BodyAsync())["errors"]!.AsObject();
        Assert.Equal("Name is required.", (string?)errors["name"]![0]);
        Assert.Equal("City must be at least 2 characters.", (string?)errors["city"]![0]);
    }

    [Fact]
    public async Task AnUnpairedSurrogateIsNamedInEnglishForAClientPreferringEnglish()
    {
        using var response = await node.Client.PostLiveChatAsync("""{"name": "Budi\ud800", "city": "So\u202elo", "country": "Indonesia"}""", acceptLanguage: "en");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.BodyAsync())["errors"]!.AsObject();
        Assert.Equal(["city", "name"], errors.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal("Name may only contain letters, digits, spaces and the punctuation . , ' - ( ).", (string?)errors["name"]![0]);
        Assert.Equal("City may only contain letters, digits, spaces and the punctuation . , ' - ( ).", (string?)errors["city"]![0]);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Theory]
    [InlineData("id-ID,id;q=0.9,en;q=0.8")]
    [InlineData("fr")]
    public async Task AnyOtherPreferenceGetsIndonesian(string acceptLanguage)
    {
        using var response = await node.Client.PostLiveChatAsync("""{"name": ""}""", acceptLanguage: acceptLanguage);

        Assert.Equal("Nama wajib diisi.", (string?)(await response.BodyAsync())["errors"]!["name"]![0]);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task AWrongContentTypeIsAnswered415(string contentType)
    {
        using var response = await node.Client.PostLiveChatAsync(LiveChatRequests.Budi().ToJsonString(), contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("Content-Type harus application/json.", (string?)(await response.BodyAsync())["message"]);
    }

    [Fact]
    public async Task CookiesSentBackAreIgnoredOnlyTheBodyCounts()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, LiveChatRequests.Path)
        {
            Content = new StringContent("""{"name": "", "city": "Solo", "country": "Indonesia"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Cookie", "livechat_name=Budi; livechat_city=Solo; livechat_country=Indonesia");

        using var response = await node.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }
}

public sealed class LiveChatSessionOnSqlite(SqliteNodeFixture fixture) : LiveChatSessionContract(fixture.Node), IClassFixture<SqliteNodeFixture>;

public sealed class LiveChatSessionOnPostgres(PostgresNodeFixture fixture) : LiveChatSessionContract(fixture.Node), IClassFixture<PostgresNodeFixture>;
