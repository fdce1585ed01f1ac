using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Lifecycle;

/// <summary>Closing races between the nodes of a three-node cluster on PostgreSQL: one chat, one activation, one outcome.</summary>
[Collection(NodeClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class ChatLifecycleClusterTests(NodeClusterFixture fixture)
{
    private NodeCluster Cluster => fixture.Cluster;

    private static async Task<(HttpStatusCode Status, JsonObject? Body)> CloseAsync(HttpClient client, Guid chatId)
    {
        using var response = await client.PostAsync(new Uri($"/v2/chats/{chatId}/close", UriKind.Relative), null);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonObject>());
    }

    [Fact]
    public async Task TenClosesOnThreeNodesCloseOnceAndAnswerTheSameChat()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Cluster.Nodes[0], chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Cluster.Nodes[1], commercial);
        await using var guest = await Conversation.VisitorAsync(Cluster.Nodes[2], visitor);
        await agent.AcceptAsync(chatId);
        var clients = Enumerable.Range(0, 10)
            .Select(i => i % 2 == 0 ? Cluster.Nodes[i % 3].ClientFor(Roles.Visitor, visitor) : Cluster.Nodes[i % 3].ClientFor(Roles.Commercial, commercial))
            .ToList();
        try
        {
            using var start = new SemaphoreSlim(0);
            var closes = clients.Select(async client =>
            {
                await start.WaitAsync();
                return await CloseAsync(client, chatId);
            }).ToArray();
            start.Release(closes.Length);
            var answers = await Task.WhenAll(closes);

            Assert.All(answers, answer => Assert.Equal(HttpStatusCode.OK, answer.Status));
            Assert.All(answers, answer => Assert.True(JsonNode.DeepEquals(answers[0].Body, answer.Body), $"{answers[0].Body}\n{answer.Body}"));
            Assert.Equal("CLOSED", (string?)answers[0].Body!["status"]);
            Assert.True(Conversation.SameJson(await guest.NextAsync("chatClosed"), answers[0].Body!));
            // A later event to the same connection is the marker: no second chatClosed came before it.
            await guest.InvokeAsync<JsonElement>("RateChat", chatId.ToString(), 5, null);
            await agent.NextAsync("chatRated");
            Assert.True(Conversation.SameJson(await agent.NextAsync("chatClosed"), answers[0].Body!));
            await agent.AssertNoneAsync("chatClosed");
            await guest.AssertNoneAsync("chatClosed");
        }
        finally
        {
            clients.ForEach(client => client.Dispose());
        }
    }

    [Fact]
    public async Task ACloseOnOneNodeRacingAnAcceptOnAnotherGivesOneOutcome()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Cluster.Nodes[0], chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Cluster.Nodes[1], commercial);
        using var visitorClient = Cluster.Nodes[2].ClientFor(Roles.Visitor, visitor);

        var accept = Record.ExceptionAsync(() => agent.AcceptAsync(chatId));
        var (status, closed) = await CloseAsync(visitorClient, chatId);
        var refused = await accept;

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("CLOSED", (string?)closed!["status"]);
        if (refused is null)
        {
            // The accept came first: assigned, then closed by the visitor.
            Assert.Equal(commercial.ToString(), (string?)closed["assignedCommercialId"]);
            Assert.True(Conversation.SameJson(await agent.NextAsync("chatClosed"), closed));
        }
        else
        {
            Assert.Contains("CHAT_CLOSED", refused.Message, StringComparison.Ordinal);
            Assert.Null(closed["assignedCommercialId"]);
            Assert.Equal(chatId, (await agent.NextAsync("chatWithdrawn")).ChatId());
        }
        Assert.True(JsonNode.DeepEquals(closed, await Conversation.ReplayAsync(Cluster.Nodes[0], chatId, visitor)));
    }
}
