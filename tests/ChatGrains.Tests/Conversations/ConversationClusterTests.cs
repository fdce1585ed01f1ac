using System.Text.Json;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Conversations;

/// <summary>Offers, the accept race and messages with participants connected to different nodes of one cluster.</summary>
[Collection(NodeClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class ConversationClusterTests(NodeClusterFixture fixture)
{
    private NodeCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task CommercialsOnThreeNodesAreAllOfferedAChatCreatedOnAnyNode()
    {
        Guid[] commercials = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
        var hubs = await Task.WhenAll(commercials.Select((id, i) => Conversation.CommercialAsync(Cluster.Nodes[i], id)));
        try
        {
            foreach (var creator in Cluster.Nodes)
            {
                var chatId = Guid.NewGuid();
                var created = await Conversation.OpenChatAsync(creator, chatId, Guid.NewGuid(), commercials);
                foreach (var hub in hubs)
                {
                    var offered = await hub.NextAsync("chatOffered", payload => payload.ChatId() == chatId);
                    Assert.True(Conversation.SameJson(offered, created));
                }
            }
        }
        finally
        {
            await Task.WhenAll(hubs.Select(hub => hub.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task TenCommercialsOnThreeNodesAcceptingAtOnceMakeExactlyOneWinner()
    {
        var commercials = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid()).ToArray();
        var visitor = Guid.NewGuid();
        var chatId = Guid.NewGuid();
        await Conversation.OpenChatAsync(Cluster.Nodes[0], chatId, visitor, commercials);
        var hubs = await Task.WhenAll(commercials.Select((id, i) => Conversation.CommercialAsync(Cluster.Nodes[i % 3], id)));
        await using var visitorHub = await Conversation.VisitorAsync(Cluster.Nodes[1], visitor);
        try
        {
            using var start = new SemaphoreSlim(0);
            var attempts = hubs.Select(async hub =>
            {
                await start.WaitAsync();
                try
                {
                    return (Accepted: (JsonElement?)await hub.AcceptAsync(chatId), Error: (string?)null);
                }
                catch (Microsoft.AspNetCore.SignalR.HubException error)
                {
                    return (Accepted: null, Error: error.Message);
                }
            }).ToArray();
            start.Release(hubs.Length);
            var outcomes = await Task.WhenAll(attempts);

            var winners = outcomes.Select((o, i) => (o, i)).Where(x => x.o.Accepted is not null).ToArray();
            var (winner, index) = Assert.Single(winners);
            Assert.Equal(commercials[index], winner.Accepted!.Value.GetProperty("assignedCommercialId").GetGuid());
            Assert.All(outcomes.Where(o => o.Accepted is null), o => Assert.Contains("CHAT_ALREADY_TAKEN: ", o.Error, StringComparison.Ordinal));
            for (var i = 0; i < hubs.Length; i++)
            {
                if (i != index)
                {
                    Assert.Equal(chatId, (await hubs[i].NextAsync("chatTaken")).ChatId());
                }
            }
            var seen = await visitorHub.NextAsync("chatAccepted");
            Assert.Equal(commercials[index], seen.GetProperty("assignedCommercialId").GetGuid());
            await hubs[index].AssertNoneAsync("chatTaken");
        }
        finally
        {
            await Task.WhenAll(hubs.Select(hub => hub.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task MessagesCrossNodesInOrderAndAReconnectElsewhereCatchesUpFromItsLastSeq()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Cluster.Nodes[2], chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Cluster.Nodes[0], commercial);
        var guest = await Conversation.VisitorAsync(Cluster.Nodes[1], visitor);
        await agent.AcceptAsync(chatId);

        for (var i = 1; i <= 20; i++)
        {
            await (i % 2 == 0 ? agent : guest).SendAsync(chatId, $"m{i}");
        }
        var received = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            received.Add((await guest.NextAsync("message")).Seq());
        }
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), received);
        await guest.DisposeAsync();

        // While the visitor is away the commercial writes on; back on another node, it asks for what came after seq 20.
        for (var i = 21; i <= 25; i++)
        {
            await agent.SendAsync(chatId, $"m{i}");
        }
        await using var back = await Conversation.VisitorAsync(Cluster.Nodes[2], visitor);
        var missed = await back.JoinAsync(chatId, afterSeq: 20);

        Assert.Equal(["m21", "m22", "m23", "m24", "m25"], missed.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()));
        var live = await agent.SendAsync(chatId, "m26");
        Assert.Equal(live.GetRawText(), (await back.NextAsync("message")).GetRawText());
    }
}
