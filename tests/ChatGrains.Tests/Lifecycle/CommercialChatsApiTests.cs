using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Lifecycle;

/// <summary><c>GET /v2/commercials/me/chats</c> and the hub's catch-up: what an agent's console shows after a reload.</summary>
public sealed class CommercialChatsApiTests(LifecycleNodeFixture fixture) : IClassFixture<LifecycleNodeFixture>
{
    private TestNode Node => fixture.Node;

    private static async Task<(HttpStatusCode Status, JsonObject Body)> ListAsync(HttpClient client, string who, string query = "")
    {
        using var response = await client.GetAsync(new Uri($"/v2/commercials/{who}/chats{query}", UriKind.Relative));
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonObject>())!);
    }

    private static Guid[] Ids(JsonObject list) => [.. list["chats"]!.AsArray().Select(chat => Guid.Parse((string)chat!["id"]!))];

    /// <summary>A commercial with one chat of each status: offered, accepted, accepted and closed (created in that order).</summary>
    private async Task<(Guid Commercial, Guid Pending, Guid Active, Guid Closed)> ConsoleAsync()
    {
        var commercial = Guid.NewGuid();
        var (pending, active, closed) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var closedVisitor = Guid.NewGuid();
        await Conversation.OpenChatAsync(Node, closed, closedVisitor, commercial);
        await Conversation.OpenChatAsync(Node, active, Guid.NewGuid(), commercial);
        await using (var agent = await Conversation.CommercialAsync(Node, commercial))
        {
            await agent.AcceptAsync(closed);
            await agent.AcceptAsync(active);
            await agent.InvokeAsync<System.Text.Json.JsonElement>("CloseChat", closed.ToString(), null);
        }
        await Conversation.OpenChatAsync(Node, pending, Guid.NewGuid(), commercial);
        return (commercial, pending, active, closed);
    }

    [Fact]
    public async Task ACommercialListsItsPendingActiveAndClosedChatsNewestFirst()
    {
        var (commercial, pending, active, closed) = await ConsoleAsync();
        using var client = Node.ClientFor(Roles.Commercial, commercial);

        var (status, all) = await ListAsync(client, "me");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(new HashSet<Guid> { pending, active, closed }, Ids(all).ToHashSet());
        // Newest change first (two changes may share a millisecond: then either order).
        var changes = all["chats"]!.AsArray().Select(chat => DateTimeOffset.Parse((string)chat!["updatedAt"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(changes.OrderByDescending(at => at), changes);
        Assert.Equal(pending, Ids(all)[0]);
        Assert.Equal([pending], Ids((await ListAsync(client, "me", "?status=PENDING")).Body));
        Assert.Equal([active], Ids((await ListAsync(client, "me", "?status=ACTIVE")).Body));
        Assert.Equal([closed], Ids((await ListAsync(client, "me", "?status=CLOSED")).Body));
        Assert.Equal(Ids(all)[..2], Ids((await ListAsync(client, "me", "?limit=2")).Body));
        using var admin = Node.ClientFor(Roles.Admin);
        Assert.Equal(Ids(all).ToHashSet(), Ids((await ListAsync(admin, commercial.ToString())).Body).ToHashSet());
    }

    [Fact]
    public async Task AReconnectingCommercialIsToldItsActiveChatsAndPendingOffers()
    {
        var (commercial, pending, active, _) = await ConsoleAsync();

        await using var agent = await Conversation.CommercialAsync(Node, commercial);

        // The client runs its handlers apart from its receive loop: the catch-up, sent before the
        // connect's round trip was answered, may still be on its way to them. The assignments
        // come last; once one is here, so is everything sent before it.
        Assert.Equal(active, (await agent.NextAsync("chatAssigned")).ChatId());
        Assert.Equal(pending, (await agent.NextAsync("chatOffered")).ChatId());
        await agent.AssertNoneAsync("chatAssigned");
        await agent.AssertNoneAsync("chatOffered");
    }

    [Fact]
    public async Task AReopenedChatLeavesTheClosedListAndIsOfferedAgain()
    {
        var commercial = Guid.NewGuid();
        var (visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using (var agent = await Conversation.CommercialAsync(Node, commercial))
        {
            await agent.AcceptAsync(chatId);
        }
        using var visitorClient = Node.ClientFor(Roles.Visitor, visitor);
        Assert.Equal(HttpStatusCode.OK, (await visitorClient.PostAsync(new Uri($"/v2/chats/{chatId}/close", UriKind.Relative), null)).StatusCode);
        using var client = Node.ClientFor(Roles.Commercial, commercial);
        Assert.Equal([chatId], Ids((await ListAsync(client, "me", "?status=CLOSED")).Body));

        Assert.Equal(HttpStatusCode.OK, (await visitorClient.PostAsync(new Uri($"/v2/chats/{chatId}/reopen", UriKind.Relative), null)).StatusCode);

        Assert.Empty(Ids((await ListAsync(client, "me", "?status=CLOSED")).Body));
        Assert.Equal([chatId], Ids((await ListAsync(client, "me")).Body));
        Assert.Equal("PENDING", (string?)(await ListAsync(client, "me")).Body["chats"]![0]!["status"]);
    }

    [Theory]
    [InlineData("visitor", "me", "", HttpStatusCode.Forbidden)]
    [InlineData("commercial", "other", "", HttpStatusCode.Forbidden)]
    [InlineData("commercial", "me", "?status=OPEN", HttpStatusCode.BadRequest)]
    [InlineData("commercial", "me", "?status=pending", HttpStatusCode.BadRequest)]
    [InlineData("commercial", "me", "?limit=0", HttpStatusCode.BadRequest)]
    [InlineData("commercial", "me", "?limit=101", HttpStatusCode.BadRequest)]
    [InlineData("admin", "not-a-uuid", "", HttpStatusCode.BadRequest)]
    [InlineData("admin", "me", "", HttpStatusCode.Forbidden)]
    public async Task OnlyItsCommercialAndAdminsReadAListAndBadQueriesAre400(string role, string who, string query, HttpStatusCode expected)
    {
        using var client = Node.ClientFor(role, Guid.NewGuid());

        var (status, body) = await ListAsync(client, who == "other" ? Guid.NewGuid().ToString() : who, query);

        Assert.Equal(expected, status);
        Assert.Equal((int)expected, (int?)body["status"]);
    }
}
