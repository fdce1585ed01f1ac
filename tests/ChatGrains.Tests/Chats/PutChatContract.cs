using ChatGrains.Grains;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Chats;

/// <summary>
/// The spec's own test list for PUT /v2/chats/{chatId} — full data, minimal data, idempotency,
/// auth and roles, UUID validation, error handling — run against a node on each storage provider.
/// </summary>
public abstract class PutChatContract(TestNode node)
{
    protected TestNode Node => node;

    [Fact]
    public async Task CreatingWithFullDataReturnsTheSpecsChatResource()
    {
        var chatId = Guid.NewGuid();
        var visitorId = Guid.NewGuid();
        using var client = node.ClientFor(Roles.Commercial);

        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        using var response = await client.PutChatAsync(chatId, ChatRequests.FullBody(visitorId));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var chat = await response.JsonAsync();
        Assert.Equal(chatId.ToString(), (string?)chat["id"]);
        Assert.Equal("PENDING", (string?)chat["status"]);
        Assert.Equal("NORMAL", (string?)chat["priority"]);
        Assert.Equal(visitorId.ToString(), (string?)chat["visitorId"]);
        Assert.Null(chat["assignedCommercialId"]);
        Assert.True(chat.ContainsKey("assignedCommercialId"));
        Assert.Equal(["550e8400-e29b-4b5b-9cb4-123456789001", "550e8400-e29b-4b5b-9cb4-123456789002"],
            chat["availableCommercialIds"]!.AsArray().Select(n => (string?)n));
        Assert.Equal(0, (int?)chat["totalMessages"]);
        Assert.Equal(0, (int?)chat["unreadMessagesCount"]);
        Assert.True((bool?)chat["isActive"]);
        Assert.Equal("ventas", (string?)chat["department"]);
        Assert.Equal(["nuevo-cliente", "interesado"], chat["tags"]!.AsArray().Select(n => (string?)n));
        var createdAt = (string)chat["createdAt"]!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", createdAt);
        Assert.Equal(createdAt, (string?)chat["updatedAt"]);
        Assert.InRange(DateTimeOffset.Parse(createdAt, System.Globalization.CultureInfo.InvariantCulture), before, DateTimeOffset.UtcNow.AddSeconds(1));

        var visitor = chat["visitorInfo"]!.AsObject();
        Assert.Equal(visitorId.ToString(), (string?)visitor["id"]);
        Assert.Equal("Juan Pérez", (string?)visitor["name"]);
        Assert.Equal("juan.perez@example.com", (string?)visitor["email"]);
        Assert.Equal("+34123456789", (string?)visitor["phone"]);
        Assert.Equal("Madrid", (string?)visitor["location"]);
        var additional = visitor["additionalData"]!.AsObject();
        Assert.Equal("Acme Corp", (string?)additional["company"]);
        Assert.Equal("192.168.1.100", (string?)additional["ipAddress"]);
        Assert.Equal("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", (string?)additional["userAgent"]);
        Assert.Equal("https://google.com", (string?)additional["referrer"]);
        Assert.Equal("España", (string?)additional["country"]);

        var metadata = chat["metadata"]!.AsObject();
        Assert.Equal("ventas", (string?)metadata["department"]);
        Assert.Equal("Plan Premium", (string?)metadata["product"]);
        Assert.Equal("web", (string?)metadata["source"]);
        Assert.Equal("Black Friday 2024", (string?)metadata["campaign"]);
        Assert.Equal("google", (string?)metadata["utmSource"]);
        Assert.Equal("cpc", (string?)metadata["utmMedium"]);
        Assert.Equal("summer_sale", (string?)metadata["utmCampaign"]);
        Assert.Null(metadata["initialUrl"]);
        Assert.Equal("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", (string?)metadata["userAgent"]);
        Assert.Equal("https://google.com", (string?)metadata["referrer"]);
        Assert.Equal(["nuevo-cliente", "interesado"], metadata["tags"]!.AsArray().Select(n => (string?)n));
        Assert.Equal(85, (int?)metadata["customFields"]!["leadScore"]);
        Assert.Equal("enterprise", (string?)metadata["customFields"]!["segment"]);

        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
        Assert.Equal([EventTypes.ChatCreated], await node.Database.ChatEventTypesAsync(chatId));
    }

    [Fact]
    public async Task CreatingWithMinimalDataAppliesTheDefaults()
    {
        var chatId = Guid.NewGuid();
        var visitorId = Guid.NewGuid();
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId, ChatRequests.MinimalBody(visitorId));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var chat = await response.JsonAsync();
        Assert.Equal("PENDING", (string?)chat["status"]);
        Assert.Equal("NORMAL", (string?)chat["priority"]);
        Assert.Null(chat["assignedCommercialId"]);
        Assert.Equal(0, (int?)chat["totalMessages"]);
        Assert.Equal(0, (int?)chat["unreadMessagesCount"]);
        Assert.True((bool?)chat["isActive"]);
        Assert.Null(chat["department"]);
        Assert.Empty(chat["tags"]!.AsArray());
        Assert.Equal("Ana García", (string?)chat["visitorInfo"]!["name"]);
        Assert.Equal("ana.garcia@example.com", (string?)chat["visitorInfo"]!["email"]);
        Assert.Null(chat["visitorInfo"]!["phone"]);
        Assert.Null(chat["visitorInfo"]!["location"]);
        Assert.Empty(chat["metadata"]!["tags"]!.AsArray());
        Assert.Empty(chat["metadata"]!["customFields"]!.AsObject());
    }

    [Fact]
    public async Task ReplayingTheSameChatIdWithAnotherBodyReturnsTheFirstChatUnchanged()
    {
        var chatId = Guid.NewGuid();
        // A commercial the chat is offered to: only such a one (or an admin) may replay it.
        using var client = node.ClientFor(Roles.Commercial, ChatRequests.Commercials[0]);
        using var first = await client.PutChatAsync(chatId, ChatRequests.FullBody(Guid.NewGuid()));
        var firstBody = await first.Content.ReadAsStringAsync();

        var other = ChatRequests.MinimalBody(Guid.NewGuid());
        other["priority"] = "URGENT";
        using var second = await client.PutChatAsync(chatId, other);
        using var third = await client.PutChatAsync(chatId, ChatRequests.FullBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(firstBody, await second.Content.ReadAsStringAsync());
        Assert.Equal(firstBody, await third.Content.ReadAsStringAsync());
        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
        Assert.Equal([EventTypes.ChatCreated], await node.Database.ChatEventTypesAsync(chatId));
        // The creation's offers (to the first body's two commercials) and its deadline.
        Assert.Equal(2, await node.Database.CountAsync("chat_offers", "chat_id", chatId));
        Assert.Equal(1, await node.Database.CountAsync("chat_deadlines", "chat_id", chatId));
    }

    [Fact]
    public async Task ChatIdIsTheSameGrainWhateverItsLetterCase()
    {
        var chatId = Guid.NewGuid();
        using var client = node.ClientFor(Roles.Admin);
        using var lower = await client.PutChatAsync(chatId.ToString(), ChatRequests.MinimalBody(Guid.NewGuid()).ToJsonString());
        using var upper = await client.PutChatAsync(chatId.ToString().ToUpperInvariant(), ChatRequests.FullBody(Guid.NewGuid()).ToJsonString());

        Assert.Equal(HttpStatusCode.OK, upper.StatusCode);
        Assert.Equal(await lower.Content.ReadAsStringAsync(), await upper.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MissingTokenIsAnswered401WithWwwAuthenticate()
    {
        var chatId = Guid.NewGuid();
        using var response = await node.Client.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(401, (int?)(await response.JsonAsync())["status"]);
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    public static TheoryData<string> RejectedTokens() => [.. Tokens.Rejected().Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(RejectedTokens))]
    public async Task InvalidTokenIsAnswered401WithWwwAuthenticate(string kind)
    {
        var chatId = Guid.NewGuid();
        var token = Tokens.Rejected().Single(t => t.Name == kind).Make(node);
        using var client = new HttpClient { BaseAddress = node.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var response = await client.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    [Theory]
    [InlineData("guest")]
    [InlineData("superuser")]
    [InlineData(null)]
    public async Task TokenWithoutAKnownRoleIsAnswered403(string? role)
    {
        var chatId = Guid.NewGuid();
        using var client = new HttpClient { BaseAddress = node.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Tokens.Create(node, role: role));

        using var response = await client.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(403, (int?)(await response.JsonAsync())["status"]);
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    [Fact]
    public async Task VisitorOpensAndReadsBackItsOwnChat()
    {
        var chatId = Guid.NewGuid();
        var visitorId = Guid.NewGuid();
        using var visitor = node.ClientFor(Roles.Visitor, visitorId);
        await Conversation.SignInAsync(node, ChatRequests.Commercials);

        using var created = await visitor.PutChatAsync(chatId, ChatRequests.MinimalBody(visitorId));
        using var readBack = await visitor.PutChatAsync(chatId, ChatRequests.MinimalBody(visitorId));

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readBack.StatusCode);
        Assert.Equal(visitorId.ToString(), (string?)(await readBack.JsonAsync())["visitorId"]);
    }

    [Fact]
    public async Task VisitorCannotOpenAChatForAnotherVisitor()
    {
        var chatId = Guid.NewGuid();
        using var visitor = node.ClientFor(Roles.Visitor, Guid.NewGuid());

        using var response = await visitor.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
        Assert.Empty(await node.Database.ChatEventTypesAsync(chatId));
    }

    [Fact]
    public async Task VisitorCannotReadBackAnotherVisitorsChat()
    {
        var chatId = Guid.NewGuid();
        var owner = Guid.NewGuid();
        using var ownerClient = node.ClientFor(Roles.Visitor, owner);
        await Conversation.SignInAsync(node, ChatRequests.Commercials);
        using var created = await ownerClient.PutChatAsync(chatId, ChatRequests.FullBody(owner));
        var intruderId = Guid.NewGuid();
        using var intruder = node.ClientFor(Roles.Visitor, intruderId);

        using var response = await intruder.PutChatAsync(chatId, ChatRequests.FullBody(intruderId));

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.DoesNotContain("Juan", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("550e8400e29b4b5b9cb4123456789100")]
    [InlineData("{550e8400-e29b-4b5b-9cb4-123456789100}")]
    [InlineData("550e8400-e29b-4b5b-9cb4-12345678910")]
    public async Task ChatIdThatIsNotAUuidIsAnswered400(string chatId)
    {
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()).ToJsonString());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await response.ErrorsAsync()).ContainsKey("chatId"));
    }

    public static TheoryData<string, string> InvalidBodies() => new()
    {
        { "visitorId missing", "visitorId" },
        { "visitorId not a uuid", "visitorId" },
        { "visitorInfo missing", "visitorInfo" },
        { "name missing", "visitorInfo.name" },
        { "name blank", "visitorInfo.name" },
        { "name too long", "visitorInfo.name" },
        { "name with control characters", "visitorInfo.name" },
        { "email missing", "visitorInfo.email" },
        { "email invalid", "visitorInfo.email" },
        { "email with markup", "visitorInfo.email" },
        { "email with quotes", "visitorInfo.email" },
        { "phone invalid", "visitorInfo.phone" },
        { "company too long", "visitorInfo.company" },
        { "ipAddress invalid", "visitorInfo.ipAddress" },
        { "ipAddress abbreviated", "visitorInfo.ipAddress" },
        { "referrer relative", "visitorInfo.referrer" },
        { "referrer not http", "visitorInfo.referrer" },
        { "city too long", "visitorInfo.location.city" },
        { "userAgent too long", "visitorInfo.userAgent" },
        { "commercials missing", "availableCommercialIds" },
        { "commercials empty", "availableCommercialIds" },
        { "commercial not a uuid", "availableCommercialIds[1]" },
        { "commercials repeated", "availableCommercialIds" },
        { "commercials over the cap", "availableCommercialIds" },
        { "priority unknown", "priority" },
        { "priority lower case", "priority" },
        { "department too long", "metadata.department" },
        { "initialUrl invalid", "metadata.initialUrl" },
        { "too many tags", "metadata.tags" },
        { "blank tag", "metadata.tags[0]" },
        { "customFields not an object", "metadata.customFields" },
        { "customFields too deep", "metadata.customFields" },
        { "customFields too large", "metadata.customFields" },
        { "customFields too many keys", "metadata.customFields" },
        { "visitorId of the wrong JSON type", "visitorId" },
        { "name of the wrong JSON type", "visitorInfo.name" },
        { "commercials of the wrong JSON type", "availableCommercialIds" },
    };

    private static void Break(JsonObject body, string rule)
    {
        var visitor = body["visitorInfo"]!.AsObject();
        var metadata = body["metadata"]!.AsObject();
        switch (rule)
        {
            case "visitorId missing": body.Remove("visitorId"); break;
            case "visitorId not a uuid": body["visitorId"] = "visitor-1"; break;
            case "visitorInfo missing": body.Remove("visitorInfo"); break;
            case "name missing": visitor.Remove("name"); break;
            case "name blank": visitor["name"] = "   "; break;
            case "name too long": visitor["name"] = new string('a', 101); break;
            case "name with control characters": visitor["name"] = "Juan\u0000Pérez"; break;
            case "email missing": visitor.Remove("email"); break;
            case "email invalid": visitor["email"] = "juan.perez@"; break;
            case "email with markup": visitor["email"] = "<svg/onload=alert(1)>@x.io"; break;
            case "email with quotes": visitor["email"] = "\"juan\"@example.com"; break;
            case "phone invalid": visitor["phone"] = "call me maybe"; break;
            case "company too long": visitor["company"] = new string('c', 201); break;
            case "ipAddress invalid": visitor["ipAddress"] = "999.1.1.1"; break;
            case "ipAddress abbreviated": visitor["ipAddress"] = "1"; break;
            case "referrer relative": visitor["referrer"] = "/home"; break;
            case "referrer not http": visitor["referrer"] = "javascript:alert(1)"; break;
            case "city too long": visitor["location"]!["city"] = new string('m', 101); break;
            case "userAgent too long": visitor["userAgent"] = new string('u', 513); break;
            case "commercials missing": body.Remove("availableCommercialIds"); break;
            case "commercials empty": body["availableCommercialIds"] = new JsonArray(); break;
            case "commercial not a uuid": body["availableCommercialIds"]!.AsArray()[1] = "commercial-2"; break;
            case "commercials repeated": body["availableCommercialIds"] = new JsonArray("550e8400-e29b-4b5b-9cb4-123456789001", "550e8400-e29b-4b5b-9cb4-123456789001"); break;
            case "commercials over the cap": body["availableCommercialIds"] = new JsonArray([.. Enumerable.Range(0, 101).Select(_ => (JsonNode)Guid.NewGuid().ToString())]); break;
            case "priority unknown": body["priority"] = "CRITICAL"; break;
            case "priority lower case": body["priority"] = "high"; break;
            case "department too long": metadata["department"] = new string('d', 101); break;
            case "initialUrl invalid": metadata["initialUrl"] = "not a url"; break;
            case "too many tags": metadata["tags"] = new JsonArray([.. Enumerable.Range(0, 21).Select(i => (JsonNode)$"tag-{i}")]); break;
            case "blank tag": metadata["tags"] = new JsonArray(""); break;
            case "customFields not an object": metadata["customFields"] = new JsonArray(1, 2); break;
            case "customFields too deep": metadata["customFields"] = JsonNode.Parse("""{"a":{"b":{"c":{"d":1}}}}"""); break;
            case "customFields too large": metadata["customFields"] = new JsonObject { ["blob"] = new string('x', 5000) }; break;
            case "customFields too many keys": metadata["customFields"] = new JsonObject([.. Enumerable.Range(0, 51).Select(i => KeyValuePair.Create($"k{i}", (JsonNode?)i))]); break;
            case "visitorId of the wrong JSON type": body["visitorId"] = 12345; break;
            case "name of the wrong JSON type": visitor["name"] = new JsonObject { ["first"] = "Juan" }; break;
            case "commercials of the wrong JSON type": body["availableCommercialIds"] = "550e8400-e29b-4b5b-9cb4-123456789001"; break;
            default: throw new ArgumentOutOfRangeException(nameof(rule), rule, null);
        }
    }

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task InvalidBodyIsAnswered400NamingTheFieldAndWritesNothing(string rule, string field)
    {
        var chatId = Guid.NewGuid();
        var body = ChatRequests.FullBody(Guid.NewGuid());
        Break(body, rule);
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = await response.ErrorsAsync();
        Assert.True(errors.ContainsKey(field), $"expected an error for '{field}' in {errors.ToJsonString()}");
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
        Assert.Empty(await node.Database.ChatEventTypesAsync(chatId));
    }

    private const string Surrogate = "'{0}' must not contain unpaired UTF-16 surrogates.";
    private const string Spoofing = "'{0}' must not contain invisible format characters or line or paragraph separators.";

    /// <summary>Where in the full body a hostile string goes, the JSON escapes it is written with, and the message expected for the field.</summary>
    public static TheoryData<string, string, string> HostileStrings() => new()
    {
        { "visitorInfo.name", @"Juan\ud800", Surrogate },
        { "visitorInfo.name", @"\udc00Juan", Surrogate },
        { "visitorInfo.name", @"Juan\udc00\ud800", Surrogate },
        { "visitorInfo.email", @"juan\ud800@example.com", Surrogate },
        { "visitorInfo.company", @"Acme\ud800", Surrogate },
        { "visitorInfo.location.city", @"\ud800", Surrogate },
        { "visitorInfo.userAgent", @"Mozilla\ud800", Surrogate },
        { "metadata.department", @"ventas\udbff", Surrogate },
        { "metadata.tags[0]", @"\ud800", Surrogate },
        { "visitorId", @"\ud800", "'{0}' must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)." },
        { "visitorInfo.name", @"Juan \u202egnp.exe", Spoofing },
        { "visitorInfo.name", @"Ju\u200ban", Spoofing },
        { "visitorInfo.company", @"Acme\u2028Corp", Spoofing },
        { "visitorInfo.location.country", @"Espa\u2029\u00f1a", Spoofing },
        { "visitorInfo.location.city", @"Mad\u2066rid", Spoofing },
        { "metadata.department", @"ven\ufefftas", Spoofing },
        { "metadata.tags[0]", @"vip\u200d", Spoofing },
        { "metadata.campaign", @"Black\u202aFriday", Spoofing },
    };

    [Theory]
    [MemberData(nameof(HostileStrings))]
    public async Task UnpairedSurrogatesAndInvisibleFormatCharactersAreAnswered400NamingTheFieldAndWriteNothing(string field, string escaped, string message)
    {
        var chatId = Guid.NewGuid();
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId.ToString(), BodyWith(field, escaped));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = await response.ErrorsAsync();
        Assert.Equal([string.Format(System.Globalization.CultureInfo.InvariantCulture, message, field)], errors[field]!.AsArray().Select(m => (string?)m));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    [Theory]
    [InlineData("""{"\ud800":1}""")]
    [InlineData("""{"segment":"\ud800"}""")]
    [InlineData("""{"nested":{"\udc00":"x"}}""")]
    [InlineData("""{"list":["ok","\ud800"]}""")]
    public async Task AnUnpairedSurrogateAnywhereInCustomFieldsIsAnswered400OnCustomFieldsAndWritesNothing(string customFields)
    {
        var chatId = Guid.NewGuid();
        var body = ChatRequests.FullBody(Guid.NewGuid());
        body["metadata"]!["customFields"] = "@customFields@";
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId.ToString(), body.ToJsonString().Replace("\"@customFields@\"", customFields, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = await response.ErrorsAsync();
        Assert.Equal(["'metadata.customFields' must not contain unpaired UTF-16 surrogates."], errors["metadata.customFields"]!.AsArray().Select(m => (string?)m));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    [Theory]
    [InlineData("""{"lead\u200bScore":1}""")]
    [InlineData("""{"seg\u202ement":"x"}""")]
    public async Task ACustomFieldsKeyWithAnInvisibleFormatCharacterIsAnswered400(string customFields)
    {
        var chatId = Guid.NewGuid();
        var body = ChatRequests.FullBody(Guid.NewGuid());
        body["metadata"]!["customFields"] = "@customFields@";
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId.ToString(), body.ToJsonString().Replace("\"@customFields@\"", customFields, StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = await response.ErrorsAsync();
        Assert.Equal(["'metadata.customFields' keys must be 1 to 64 characters without control, invisible format or separator characters."],
            errors["metadata.customFields"]!.AsArray().Select(m => (string?)m));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    [Fact]
    public async Task ASurrogatePairIsTextLikeAnyOtherAndIsStored()
    {
        var chatId = Guid.NewGuid();
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId.ToString(), BodyWith("visitorInfo.name", @"Juan \ud83d\ude00"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Juan \U0001F600", (string?)(await response.JsonAsync())["visitorInfo"]!["name"]);
        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    [Fact]
    public async Task MarkupInAStoredNameComesBackHtmlEscapedAndLettersAsThemselves()
    {
        var chatId = Guid.NewGuid();
        var body = ChatRequests.FullBody(Guid.NewGuid());
        body["visitorInfo"]!["name"] = "Ana García <script>alert('x')</script> & co";
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains(@"Ana García \u003Cscript\u003Ealert(\u0027x\u0027)\u003C/script\u003E \u0026 co", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryHostileStringIsReportedAtOnce()
    {
        using var client = node.ClientFor(Roles.Admin);
        var body = ChatRequests.FullBody(Guid.NewGuid());
        body["visitorInfo"]!["name"] = "@name@";
        body["visitorInfo"]!["company"] = "@company@";
        body["visitorInfo"]!["email"] = "<svg/onload=alert(1)>@x.io";

        using var response = await client.PutChatAsync(Guid.NewGuid().ToString(), body.ToJsonString()
            .Replace("@name@", @"\ud800", StringComparison.Ordinal)
            .Replace("@company@", @"Acme\u202e", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(["visitorInfo.company", "visitorInfo.email", "visitorInfo.name"], (await response.ErrorsAsync()).Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// The full body with <paramref name="escaped"/> (JSON escapes, written raw) at <paramref name="field"/>:
    /// a lone surrogate cannot go through a JSON writer, so a placeholder is replaced in the text.
    /// </summary>
    private static string BodyWith(string field, string escaped)
    {
        const string placeholder = "@hostile@";
        var body = ChatRequests.FullBody(Guid.NewGuid());
        if (field == "metadata.tags[0]")
        {
            body["metadata"]!["tags"] = new JsonArray(placeholder);
        }
        else
        {
            var path = field.Split('.');
            var parent = path[..^1].Aggregate((JsonNode)body, (node, name) => node[name]!);
            parent[path[^1]] = placeholder;
        }
        return body.ToJsonString().Replace(placeholder, escaped, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryBadFieldIsReportedAtOnce()
    {
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync("nope", """{"visitorId":"x","visitorInfo":{"email":"bad"},"availableCommercialIds":[],"priority":"SOON"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = await response.ErrorsAsync();
        Assert.Equal(
            ["availableCommercialIds", "chatId", "priority", "visitorId", "visitorInfo.email", "visitorInfo.name"],
            errors.Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("{\"visitorId\": ")]
    [InlineData("not json")]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[1,2]")]
    public async Task MalformedJsonIsAnswered400(string body)
    {
        var chatId = Guid.NewGuid();
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId.ToString(), body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(400, (int?)(await response.JsonAsync())["status"]);
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/xml")]
    public async Task NonJsonContentTypeIsAnswered415(string contentType)
    {
        var chatId = Guid.NewGuid();
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId.ToString(), ChatRequests.MinimalBody(Guid.NewGuid()).ToJsonString(), contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(415, (int?)(await response.JsonAsync())["status"]);
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    [Fact]
    public async Task OversizedBodyIsAnswered413()
    {
        var chatId = Guid.NewGuid();
        var body = ChatRequests.MinimalBody(Guid.NewGuid());
        body["padding"] = new string(' ', 70_000);
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId, body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    [Fact]
    public async Task ErrorBodiesRevealNoInternals()
    {
        using var client = node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(Guid.NewGuid().ToString(), """{"visitorId": {"$type": "System.Object"}}""");

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
    }
}

public sealed class PutChatOnSqlite(SqliteNodeFixture fixture) : PutChatContract(fixture.Node), IClassFixture<SqliteNodeFixture>;

public sealed class PutChatOnPostgres(PostgresNodeFixture fixture) : PutChatContract(fixture.Node), IClassFixture<PostgresNodeFixture>;
