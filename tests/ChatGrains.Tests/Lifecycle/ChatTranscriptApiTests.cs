using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Lifecycle;

/// <summary><c>GET /v2/chats/{chatId}/transcript</c>: pages of a chat's messages, as JSON or text, for whom it concerns.</summary>
public sealed class ChatTranscriptApiTests(LifecycleNodeFixture fixture) : IClassFixture<LifecycleNodeFixture>
{
    private TestNode Node => fixture.Node;

    private static Task<HttpResponseMessage> GetAsync(HttpClient client, Guid chatId, string query = "", string? accept = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v2/chats/{chatId}/transcript{query}", UriKind.Relative));
        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }
        return client.SendAsync(request);
    }

    private async Task<(Guid Commercial, Guid Visitor, Guid ChatId)> ConversationAsync(int messages)
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        await agent.AcceptAsync(chatId);
        for (var i = 1; i <= messages; i++)
        {
            await (i % 2 == 1 ? guest : agent).SendAsync(chatId, i == 1 ? "<script>alert(1)</script>\nbaris dua" : $"pesan {i}");
        }
        return (commercial, visitor, chatId);
    }

    [Fact]
    public async Task TheTranscriptComesInPagesWithWhereTheNextStarts()
    {
        var (_, visitor, chatId) = await ConversationAsync(5);
        using var client = Node.ClientFor(Roles.Visitor, visitor);

        using var first = await GetAsync(client, chatId, "?limit=2");
        var page = (await first.Content.ReadFromJsonAsync<JsonObject>())!;
        using var last = await GetAsync(client, chatId, "?afterSeq=4&limit=2");
        var end = (await last.Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal([1L, 2L], page["messages"]!.AsArray().Select(m => (long)m!["seq"]!));
        Assert.Equal("<script>alert(1)</script>\nbaris dua", (string?)page["messages"]![0]!["text"]);
        Assert.Equal(2, (long?)page["nextAfterSeq"]);
        Assert.Equal(5, (int?)page["chat"]!["totalMessages"]);
        Assert.Equal([5L], end["messages"]!.AsArray().Select(m => (long)m!["seq"]!));
        Assert.Null(end["nextAfterSeq"]);
    }

    [Fact]
    public async Task AskedForTextTheSamePageIsReadableTextWithMarkupAsText()
    {
        var (_, _, chatId) = await ConversationAsync(3);
        using var admin = Node.ClientFor(Roles.Admin);

        using var response = await GetAsync(admin, chatId, "?limit=2", "text/plain");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var lines = text.Split('\n');
        Assert.StartsWith($"Chat {chatId:D} (ACTIVE), 3 messages; 1–2 here", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\] visitor: <script>alert\(1\)</script>$", lines[1]);
        Assert.Equal("    baris dua", lines[2]);
        Assert.Matches(@"^\[.*Z\] commercial: pesan 2$", lines[3]);
        Assert.Equal("(more: afterSeq=2)", lines[4]);
    }

    [Fact]
    public async Task EveryCommercialOnceAssignedMayReadItAndNobodyElse()
    {
        var (first, second, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, first, second);
        using var visitorClient = Node.ClientFor(Roles.Visitor, visitor);
        await using (var agent = await Conversation.CommercialAsync(Node, first))
        {
            await agent.AcceptAsync(chatId);
        }
        // Closed, reopened and taken by the other commercial: the first still reads it.
        Assert.Equal(HttpStatusCode.OK, (await visitorClient.PostAsync(new Uri($"/v2/chats/{chatId}/close", UriKind.Relative), null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await visitorClient.PostAsync(new Uri($"/v2/chats/{chatId}/reopen", UriKind.Relative), null)).StatusCode);
        using var offeredOnly = Node.ClientFor(Roles.Commercial, second);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(offeredOnly, chatId)).StatusCode);
        await using (var agent = await Conversation.CommercialAsync(Node, second))
        {
            await agent.AcceptAsync(chatId);
        }
        using var earlier = Node.ClientFor(Roles.Commercial, first);
        using var stranger = Node.ClientFor(Roles.Commercial, Guid.NewGuid());
        using var otherVisitor = Node.ClientFor(Roles.Visitor, Guid.NewGuid());

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(earlier, chatId)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(offeredOnly, chatId)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(visitorClient, chatId)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(stranger, chatId)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(otherVisitor, chatId)).StatusCode);
        using var missing = await GetAsync(visitorClient, Guid.NewGuid());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=501", "limit")]
    [InlineData("?limit=abc", "limit")]
    [InlineData("?afterSeq=-1", "afterSeq")]
    [InlineData("?afterSeq=1.5", "afterSeq")]
    [InlineData("?afterSeq=99", "afterSeq")]
    public async Task ABadPageIs400NamingTheField(string query, string field)
    {
        var (_, visitor, chatId) = await ConversationAsync(1);
        using var client = Node.ClientFor(Roles.Visitor, visitor);

        using var response = await GetAsync(client, chatId, query);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }
}
