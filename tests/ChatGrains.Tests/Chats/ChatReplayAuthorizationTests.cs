using System.Net;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Chats;

/// <summary>
/// A <c>PUT /v2/chats</c> replay answers the whole chat (the visitor's name, e-mail, phone, IP)
/// only to whom the hub's <c>JoinChat</c> lets read it: its visitor, its assigned commercial, the
/// commercials it is offered to while PENDING, admins. Any staff token may still create a chat.
/// <c>GET /v2/chats/{chatId}</c> reads it back to the same readers.
/// </summary>
public sealed class ChatReplayAuthorizationTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private TestNode Node => fixture.Node;

    private async Task<(Guid ChatId, Guid Visitor, Guid[] Offered)> OpenAsync()
    {
        var (chatId, visitor) = (Guid.NewGuid(), Guid.NewGuid());
        Guid[] offered = [Guid.NewGuid(), Guid.NewGuid()];
        await Conversation.SignInAsync(Node, offered);
        using var client = Node.ClientFor(Roles.Visitor, visitor);
        var body = ChatRequests.FullBody(visitor);
        body["availableCommercialIds"] = new System.Text.Json.Nodes.JsonArray([.. offered.Select(id => (System.Text.Json.Nodes.JsonNode)id.ToString())]);
        using var created = await client.PutChatAsync(chatId, body);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        return (chatId, visitor, offered);
    }

    private async Task<HttpResponseMessage> ReplayAsync(string role, Guid subject, Guid chatId)
    {
        using var client = Node.ClientFor(role, subject);
        return await client.PutChatAsync(chatId, ChatRequests.FullBody(Guid.NewGuid()));
    }

    private async Task<HttpResponseMessage> GetAsync(string role, Guid subject, Guid chatId)
    {
        using var client = Node.ClientFor(role, subject);
        return await client.GetAsync(new Uri($"/v2/chats/{chatId}", UriKind.Relative));
    }

    private static async Task AssertForbiddenWithoutPiiAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(403, (int?)(await response.JsonAsync())["status"]);
        foreach (var pii in new[] { "Juan", "juan.perez@example.com", "+34123456789", "192.168.1.100" })
        {
            Assert.DoesNotContain(pii, text, StringComparison.Ordinal);
        }
    }

    private static async Task AssertFullResourceAsync(HttpResponseMessage response, Guid chatId)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var chat = await response.JsonAsync();
        Assert.Equal(chatId.ToString(), (string?)chat["id"]);
        Assert.Equal("juan.perez@example.com", (string?)chat["visitorInfo"]!["email"]);
        Assert.Equal("192.168.1.100", (string?)chat["visitorInfo"]!["additionalData"]!["ipAddress"]);
    }

    [Fact]
    public async Task ACommercialNeverOfferedTheChatIs403OnReplayWhileAnOfferedOneAndAnAdminGetTheWholeChat()
    {
        var (chatId, _, offered) = await OpenAsync();

        using var stranger = await ReplayAsync(Roles.Commercial, Guid.NewGuid(), chatId);
        using var offeredOne = await ReplayAsync(Roles.Commercial, offered[1], chatId);
        using var admin = await ReplayAsync(Roles.Admin, Guid.NewGuid(), chatId);

        await AssertForbiddenWithoutPiiAsync(stranger);
        await AssertFullResourceAsync(offeredOne, chatId);
        await AssertFullResourceAsync(admin, chatId);
    }

    [Fact]
    public async Task OnceAcceptedTheAssignedCommercialReadsTheChatAndTheOtherOfferedOneNoLonger()
    {
        var (chatId, _, offered) = await OpenAsync();
        await using (var agent = await Conversation.CommercialAsync(Node, offered[0]))
        {
            await agent.AcceptAsync(chatId);
        }

        using var assigned = await ReplayAsync(Roles.Commercial, offered[0], chatId);
        using var passedOver = await ReplayAsync(Roles.Commercial, offered[1], chatId);

        await AssertFullResourceAsync(assigned, chatId);
        await AssertForbiddenWithoutPiiAsync(passedOver);
    }

    [Fact]
    public async Task AnyCommercialMayCreateAChatOfferedToOthers()
    {
        var chatId = Guid.NewGuid();

        using var created = await ReplayAsync(Roles.Commercial, Guid.NewGuid(), chatId);

        await AssertFullResourceAsync(created, chatId);
    }

    [Fact]
    public async Task GetReadsTheChatBackAsAReplayReturnsItToItsReadersAndIs403ForOthers()
    {
        var (chatId, visitor, offered) = await OpenAsync();

        using var own = await GetAsync(Roles.Visitor, visitor, chatId);
        using var offeredOne = await GetAsync(Roles.Commercial, offered[0], chatId);
        using var admin = await GetAsync(Roles.Admin, Guid.NewGuid(), chatId);
        using var otherVisitor = await GetAsync(Roles.Visitor, Guid.NewGuid(), chatId);
        using var stranger = await GetAsync(Roles.Commercial, Guid.NewGuid(), chatId);
        using var replay = await ReplayAsync(Roles.Admin, Guid.NewGuid(), chatId);

        Assert.Equal(await replay.Content.ReadAsStringAsync(), await own.Content.ReadAsStringAsync());
        await AssertFullResourceAsync(own, chatId);
        await AssertFullResourceAsync(offeredOne, chatId);
        await AssertFullResourceAsync(admin, chatId);
        await AssertForbiddenWithoutPiiAsync(otherVisitor);
        await AssertForbiddenWithoutPiiAsync(stranger);
    }

    [Fact]
    public async Task GetOfAnUnknownChatIs404OfABadIdIs400AndWithoutATokenIs401()
    {
        using var admin = Node.ClientFor(Roles.Admin);

        using var unknown = await admin.GetAsync(new Uri($"/v2/chats/{Guid.NewGuid()}", UriKind.Relative));
        using var bad = await admin.GetAsync(new Uri("/v2/chats/not-a-uuid", UriKind.Relative));
        using var anonymous = await Node.Client.GetAsync(new Uri($"/v2/chats/{Guid.NewGuid()}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Equal("No chat has this id.", (string?)(await unknown.JsonAsync())["title"]);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.NotNull((await bad.ErrorsAsync())["chatId"]);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
