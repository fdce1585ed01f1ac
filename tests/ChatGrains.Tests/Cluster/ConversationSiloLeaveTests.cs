using ChatGrains.Grains;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace ChatGrains.Tests.Cluster;

/// <summary>Delivery to a participant whose grain lived on a silo that left the cluster gracefully.</summary>
[Trait("Category", "Cluster")]
public sealed class ConversationSiloLeaveTests
{
    [Fact]
    public async Task AVisitorWhoseGrainLivedOnALeavingSiloStillReceivesMessagesAfterTheResync()
    {
        await using var cluster = await NodeCluster.StartAsync(nodeCount: 3);
        var leaving = cluster.Nodes[2];
        var (visitor, commercial, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        // Opened through the leaving node, the visitor's grain is placed there (its local silo).
        await Conversation.OpenChatAsync(leaving, chatId, visitor, commercial);
        var at = await cluster.Nodes[0].Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(cluster.Nodes[0].Grains.GetGrain<IVisitorGrain>(visitor));
        Assert.Equal(leaving.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress, at);
        await using var guest = await Conversation.VisitorAsync(cluster.Nodes[0], visitor);
        await using var agent = await Conversation.CommercialAsync(cluster.Nodes[1], commercial);
        await agent.AcceptAsync(chatId);

        // Stopping, the silo is no longer Active before its grains are gone, and Dead after: the
        // relay refreshes the visitor's registration (and says resync) at both.
        await leaving.StopAsync();
        await guest.NextAsync("resync");
        var sent = await agent.SendAsync(chatId, "after the leave");

        var received = await guest.NextAsync("message", m => m.Seq() == sent.Seq());
        Assert.Equal("after the leave", received.GetProperty("text").GetString());
    }
}
