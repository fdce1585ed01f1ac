using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Lifecycle;

/// <summary>Closing, reopening and rating a chat, through the hub and <c>/v2/chats/{chatId}/…</c>.</summary>
public sealed class ChatLifecycleTests(LifecycleNodeFixture fixture) : IClassFixture<LifecycleNodeFixture>
{
    private TestNode Node => fixture.Node;

    private async Task<(Guid Commercial, Guid Visitor, Guid ChatId, HubClient Agent, HubClient Guest)> ActiveChatAsync()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        var agent = await Conversation.CommercialAsync(Node, commercial);
        var guest = await Conversation.VisitorAsync(Node, visitor);
        await agent.AcceptAsync(chatId);
        // The catch-up on connect offered it: what a test waits for comes after.
        agent.Drain("chatOffered");
        return (commercial, visitor, chatId, agent, guest);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, Guid chatId, string action, string? body) =>
        client.PostAsync(new Uri($"/v2/chats/{chatId}/{action}", UriKind.Relative),
            body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task<JsonObject> BodyAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task AVisitorClosingItsChatTellsBothSidesAndTheChatRefusesWritesButStillReads()
    {
        var (commercial, visitor, chatId, agent, guest) = await ActiveChatAsync();
        await using var _ = agent;
        await using var __ = guest;
        await guest.SendAsync(chatId, "terima kasih");

        var closed = await guest.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), "  sudah selesai ");

        Assert.Equal("CLOSED", closed.GetProperty("status").GetString());
        Assert.False(closed.GetProperty("isActive").GetBoolean());
        Assert.Equal("VISITOR", closed.GetProperty("closeReason").GetString());
        Assert.Equal("sudah selesai", closed.GetProperty("closeNote").GetString());
        Assert.Equal("visitor", closed.GetProperty("closedBy").GetProperty("role").GetString());
        Assert.Equal(visitor.ToString(), closed.GetProperty("closedBy").GetProperty("id").GetString());
        Assert.Equal(closed.GetProperty("updatedAt").GetString(), closed.GetProperty("closedAt").GetString());
        Assert.Equal(commercial, closed.GetProperty("assignedCommercialId").GetGuid());
        Assert.Equal(closed.GetRawText(), (await agent.NextAsync("chatClosed")).GetRawText());
        Assert.Equal(closed.GetRawText(), (await guest.NextAsync("chatClosed")).GetRawText());

        Assert.Equal("CHAT_CLOSED", await guest.RefusedAsync("SendMessage", chatId.ToString(), Guid.NewGuid().ToString(), "halo?"));
        Assert.Equal("CHAT_CLOSED", await agent.RefusedAsync("SendMessage", chatId.ToString(), Guid.NewGuid().ToString(), "halo?"));
        Assert.Equal("CHAT_CLOSED", await agent.RefusedAsync("AcceptChat", chatId.ToString()));
        Assert.Equal("CHAT_CLOSED", await agent.RefusedAsync("MarkRead", chatId.ToString(), 1L));
        Assert.Equal(1, (await agent.JoinAsync(chatId)).GetProperty("messages").GetArrayLength());
        var replayed = await Conversation.ReplayAsync(Node, chatId, visitor);
        Assert.True(Conversation.SameJson(closed, replayed), $"closed {closed}\nreplayed {replayed}");

        // Closing again, by either side, answers the same chat and tells nobody.
        Assert.Equal(closed.GetRawText(), (await agent.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), null)).GetRawText());
        Assert.Equal(closed.GetRawText(), (await guest.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), "lagi")).GetRawText());
        await guest.InvokeAsync<JsonElement>("RateChat", chatId.ToString(), 5, null);
        await agent.NextAsync("chatRated");
        await agent.AssertNoneAsync("chatClosed");
        await guest.AssertNoneAsync("chatClosed");
    }

    [Fact]
    public async Task TheAssignedCommercialClosesOverHttpAndAnAdminMayCloseAnyChat()
    {
        var (commercial, _, chatId, agent, guest) = await ActiveChatAsync();
        await using var _a = agent;
        await using var _g = guest;
        using var commercialClient = Node.ClientFor(Roles.Commercial, commercial);

        var closed = await BodyAsync(await PostAsync(commercialClient, chatId, "close", """{"reason":"resolved"}"""), HttpStatusCode.OK);

        Assert.Equal(("CLOSED", "COMMERCIAL", "resolved"), ((string?)closed["status"], (string?)closed["closeReason"], (string?)closed["closeNote"]));
        Assert.Equal(commercial.ToString(), (string?)closed["closedBy"]!["id"]);
        Assert.True(Conversation.SameJson(await guest.NextAsync("chatClosed"), closed));

        var other = await ActiveChatAsync();
        await using var _b = other.Agent;
        await using var _c = other.Guest;
        var admin = Guid.NewGuid();
        using var adminClient = Node.ClientFor(Roles.Admin, admin);
        var byAdmin = await BodyAsync(await PostAsync(adminClient, other.ChatId, "close", null), HttpStatusCode.OK);
        Assert.Equal(("ADMIN", "admin", null), ((string?)byAdmin["closeReason"], (string?)byAdmin["closedBy"]!["role"], (string?)byAdmin["closeNote"]));
        await other.Agent.NextAsync("chatClosed");
    }

    [Fact]
    public async Task APendingChatClosedByItsVisitorIsWithdrawnFromEveryOfferedCommercial()
    {
        var (first, second, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await using var firstHub = await Conversation.CommercialAsync(Node, first);
        await Conversation.OpenChatAsync(Node, chatId, visitor, first, second);
        await firstHub.NextAsync("chatOffered");
        using var visitorClient = Node.ClientFor(Roles.Visitor, visitor);

        var closed = await BodyAsync(await PostAsync(visitorClient, chatId, "close", null), HttpStatusCode.OK);

        Assert.Equal(("CLOSED", "VISITOR"), ((string?)closed["status"], (string?)closed["closeReason"]));
        Assert.Null(closed["assignedCommercialId"]);
        Assert.Equal(chatId, (await firstHub.NextAsync("chatWithdrawn")).ChatId());
        Assert.Equal(0, await Node.Database.CountAsync("chat_offers", "chat_id", chatId));
        await using var secondHub = await Conversation.CommercialAsync(Node, second);
        // The catch-up on connect no longer offers it: a later chat is the marker that it ran.
        var later = Guid.NewGuid();
        await Conversation.OpenChatAsync(Node, later, Guid.NewGuid(), second);
        Assert.Equal(later, (await secondHub.NextAsync("chatOffered")).ChatId());
        await secondHub.AssertNoneAsync("chatOffered");
        Assert.Equal("NOT_A_PARTICIPANT", await firstHub.RefusedAsync("CloseChat", chatId.ToString(), null));
    }

    [Fact]
    public async Task OnlyTheVisitorTheAssignedCommercialAndAdminsMayCloseAndAnUnknownChatIs404()
    {
        var (commercial, _, chatId, agent, guest) = await ActiveChatAsync();
        await using var _a = agent;
        await using var _g = guest;
        using var stranger = Node.ClientFor(Roles.Visitor, Guid.NewGuid());
        using var otherCommercial = Node.ClientFor(Roles.Commercial, Guid.NewGuid());

        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(stranger, chatId, "close", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(otherCommercial, chatId, "close", null)).StatusCode);
        var missing = await BodyAsync(await PostAsync(stranger, Guid.NewGuid(), "close", null), HttpStatusCode.NotFound);
        Assert.Equal(404, (int?)missing["status"]);
        await using var intruder = await Conversation.VisitorAsync(Node, Guid.NewGuid());
        Assert.Equal("NOT_A_PARTICIPANT", await intruder.RefusedAsync("CloseChat", chatId.ToString(), null));
        Assert.Equal("CHAT_NOT_FOUND", await intruder.RefusedAsync("CloseChat", Guid.NewGuid().ToString(), null));
        Assert.Equal("ACTIVE", (string?)(await Conversation.ReplayAsync(Node, chatId, (await agent.JoinAsync(chatId)).GetProperty("chat").GetProperty("visitorId").GetGuid()))["status"]);
    }

    [Theory]
    [InlineData("""{"reason": 42}""", "reason")]
    [InlineData("""{"reason": "\ud800"}""", "reason")]
    [InlineData("""{"reason": "a\u0007b"}""", "reason")]
    [InlineData("""{"reason": "__501__"}""", "reason")]
    [InlineData("""{"reason": """, "body")]
    public async Task ABadCloseBodyIs400NamingTheFieldAndClosesNothing(string body, string field)
    {
        var (_, visitor, chatId, agent, guest) = await ActiveChatAsync();
        await using var _a = agent;
        await using var _g = guest;
        using var client = Node.ClientFor(Roles.Visitor, visitor);

        var problem = await BodyAsync(await PostAsync(client, chatId, "close", body.Replace("__501__", new string('x', 501))), HttpStatusCode.BadRequest);

        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
        Assert.Equal("ACTIVE", (string?)(await Conversation.ReplayAsync(Node, chatId, visitor))["status"]);
        Assert.Equal("VALIDATION_FAILED", await guest.RefusedAsync("CloseChat", chatId.ToString(), new string('x', 501)));
    }

    [Fact]
    public async Task ClosingAChatFreesItsSlotUnderTheVisitorsCap()
    {
        var visitor = Guid.NewGuid();
        var commercial = Guid.NewGuid();
        var open = new List<Guid>();
        for (var i = 0; i < LifecycleNodeFixture.MaxOpenPerVisitor; i++)
        {
            open.Add(Guid.NewGuid());
            await Conversation.OpenChatAsync(Node, open[^1], visitor, commercial);
        }
        using var client = Node.ClientFor(Roles.Visitor, visitor);
        var next = Guid.NewGuid();
        var body = ChatRequests.MinimalBody(visitor);
        body["availableCommercialIds"] = new JsonArray(commercial.ToString());
        Assert.Equal(HttpStatusCode.Conflict, (await client.PutChatAsync(next, body)).StatusCode);

        await BodyAsync(await PostAsync(client, open[0], "close", null), HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.OK, (await client.PutChatAsync(next, body)).StatusCode);
        // Reopening counts again: the visitor is at its cap.
        var refused = await BodyAsync(await PostAsync(client, open[0], "reopen", null), HttpStatusCode.Conflict);
        Assert.Equal("VISITOR_AT_CAP", (string?)refused["code"]);
    }

    [Fact]
    public async Task TheVisitorReopensItsChatWithinTheWindowAsANewEpisodeOfferedAgain()
    {
        var (commercial, visitor, chatId, agent, guest) = await ActiveChatAsync();
        await using var _a = agent;
        await using var _g = guest;
        await guest.SendAsync(chatId, "satu");
        using var client = Node.ClientFor(Roles.Visitor, visitor);
        var neverClosed = await BodyAsync(await PostAsync(client, chatId, "reopen", null), HttpStatusCode.Conflict);
        Assert.Equal("CHAT_NOT_CLOSED", (string?)neverClosed["code"]);
        await guest.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), null);

        var reopened = await guest.InvokeAsync<JsonElement>("ReopenChat", chatId.ToString());

        Assert.Equal(("PENDING", 2), (reopened.GetProperty("status").GetString(), reopened.GetProperty("episode").GetInt32()));
        Assert.True(reopened.GetProperty("isActive").GetBoolean());
        Assert.Equal(JsonValueKind.Null, reopened.GetProperty("assignedCommercialId").ValueKind);
        Assert.Equal(JsonValueKind.Null, reopened.GetProperty("closedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, reopened.GetProperty("closeReason").ValueKind);
        Assert.Equal(1, reopened.GetProperty("totalMessages").GetInt32());
        Assert.Equal(chatId, (await agent.NextAsync("chatOffered", offer => offer.ChatId() == chatId)).ChatId());
        Assert.Equal(reopened.GetRawText(), (await guest.NextAsync("chatReopened")).GetRawText());
        // Again: the same chat, nobody told twice (the accept that follows is the marker).
        var again = await BodyAsync(await PostAsync(client, chatId, "reopen", null), HttpStatusCode.OK);
        Assert.True(Conversation.SameJson(reopened, again));
        await agent.AcceptAsync(chatId);
        Assert.Equal(2, (await agent.SendAsync(chatId, "dua")).Seq());
        await guest.NextAsync("chatAccepted");
        await guest.AssertNoneAsync("chatReopened");
        await agent.AssertNoneAsync("chatOffered");
        Assert.Equal("NOT_A_PARTICIPANT", await agent.RefusedAsync("ReopenChat", chatId.ToString()));
    }

    [Fact]
    public async Task AChatClosedLongerAgoThanTheReopenWindowCannotBeReopened()
    {
        var (_, visitor, chatId, agent, guest) = await ActiveChatAsync();
        await using var _a = agent;
        await using var _g = guest;
        await guest.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), null);
        // Closed 25 hours ago, as its record says (the default window is 24 h).
        await Node.CollectIdleGrainsAsync();
        await Node.Database.SetGrainPayloadAsync(GrainStorage.Chat, chatId, payload =>
            payload["Value"]!["ClosedAt"] = DateTimeOffset.UtcNow.AddHours(-25).ToString("O"));
        using var client = Node.ClientFor(Roles.Visitor, visitor);

        var refused = await BodyAsync(await PostAsync(client, chatId, "reopen", null), HttpStatusCode.Conflict);

        Assert.Equal("REOPEN_WINDOW_PASSED", (string?)refused["code"]);
        Assert.Equal("REOPEN_WINDOW_PASSED", await guest.RefusedAsync("ReopenChat", chatId.ToString()));
        Assert.Equal("CLOSED", (string?)(await Conversation.ReplayAsync(Node, chatId, visitor))["status"]);
    }

    [Fact]
    public async Task TheVisitorRatesAClosedEpisodeOnceAndTheCommercialIsTold()
    {
        var (_, visitor, chatId, agent, guest) = await ActiveChatAsync();
        await using var _a = agent;
        await using var _g = guest;
        using var client = Node.ClientFor(Roles.Visitor, visitor);
        var early = await BodyAsync(await PostAsync(client, chatId, "rating", """{"rating":5}"""), HttpStatusCode.Conflict);
        Assert.Equal("CHAT_NOT_CLOSED", (string?)early["code"]);
        await agent.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), null);

        var rating = await BodyAsync(await PostAsync(client, chatId, "rating", """{"rating":4,"comment":"cepat <b>dan</b> ramah"}"""), HttpStatusCode.Created);

        Assert.Equal((4, "cepat <b>dan</b> ramah", 1), ((int?)rating["rating"], (string?)rating["comment"], (int?)rating["episode"]));
        Assert.True(Conversation.SameJson((await agent.NextAsync("chatRated")).GetProperty("rating"), rating));
        Assert.True(JsonNode.DeepEquals(rating, (await Conversation.ReplayAsync(Node, chatId, visitor))["rating"]));
        var twice = await BodyAsync(await PostAsync(client, chatId, "rating", """{"rating":1}"""), HttpStatusCode.Conflict);
        Assert.Equal("ALREADY_RATED", (string?)twice["code"]);
        Assert.Equal("ALREADY_RATED", await guest.RefusedAsync("RateChat", chatId.ToString(), 2, null));
        Assert.Equal("NOT_A_PARTICIPANT", await agent.RefusedAsync("RateChat", chatId.ToString(), 2, null));
    }

    [Theory]
    [InlineData("""{"rating":0}""", "rating")]
    [InlineData("""{"rating":6}""", "rating")]
    [InlineData("""{"rating":3.5}""", "rating")]
    [InlineData("""{"rating":"3"}""", "rating")]
    [InlineData("""{}""", "rating")]
    [InlineData("""{"rating":3,"comment":"__1001__"}""", "comment")]
    [InlineData("""{"rating":3,"comment":"\udc00"}""", "comment")]
    public async Task ABadRatingIs400NamingTheFieldAndStoresNothing(string body, string field)
    {
        var (_, visitor, chatId, agent, guest) = await ActiveChatAsync();
        await using var _a = agent;
        await using var _g = guest;
        await guest.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), null);
        using var client = Node.ClientFor(Roles.Visitor, visitor);

        var problem = await BodyAsync(await PostAsync(client, chatId, "rating", body.Replace("__1001__", new string('y', 1001))), HttpStatusCode.BadRequest);

        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
        Assert.Null((await Conversation.ReplayAsync(Node, chatId, visitor))["rating"]);
        Assert.Equal("VALIDATION_FAILED", await guest.RefusedAsync("RateChat", chatId.ToString(), 3.5, null));
    }

    [Fact]
    public async Task TenClosesRacingGiveOneCloseAndEveryCallerTheSameChat()
    {
        var (commercial, visitor, chatId, agent, guest) = await ActiveChatAsync();
        await using var _a = agent;
        await using var _g = guest;
        var clients = Enumerable.Range(0, 10)
            .Select(i => i % 2 == 0 ? Node.ClientFor(Roles.Visitor, visitor) : Node.ClientFor(Roles.Commercial, commercial))
            .ToList();

        var answers = await Task.WhenAll(clients.Select(async client => await BodyAsync(await PostAsync(client, chatId, "close", null), HttpStatusCode.OK)));

        Assert.All(answers, answer => Assert.True(JsonNode.DeepEquals(answers[0], answer)));
        await agent.NextAsync("chatClosed");
        await guest.InvokeAsync<JsonElement>("RateChat", chatId.ToString(), 3, null);
        await agent.NextAsync("chatRated");
        await agent.AssertNoneAsync("chatClosed");
        clients.ForEach(client => client.Dispose());
    }

    [Fact]
    public async Task ACloseRacingAnAcceptGivesOneConsistentOutcome()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);

        var accept = agent.AcceptAsync(chatId);
        var close = guest.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), null);
        var closed = await close;
        var accepted = await Record.ExceptionAsync(() => accept);

        Assert.Equal("CLOSED", closed.GetProperty("status").GetString());
        if (accepted is null)
        {
            // The accept came first: the chat was assigned, then closed.
            Assert.Equal(commercial, closed.GetProperty("assignedCommercialId").GetGuid());
        }
        else
        {
            Assert.Contains("CHAT_CLOSED", accepted.Message, StringComparison.Ordinal);
            Assert.Equal(JsonValueKind.Null, closed.GetProperty("assignedCommercialId").ValueKind);
        }
    }
}
