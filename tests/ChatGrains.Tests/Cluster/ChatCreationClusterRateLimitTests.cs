using System.Net;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Cluster;

/// <summary>The chat creation limits and the visitor cap hold for a three-node cluster as a whole: one grain counts each.</summary>
[Trait("Category", "Cluster")]
public sealed class ChatCreationClusterRateLimitTests
{
    [Fact]
    public async Task OneVisitorsCreationsSpreadOverThreeNodesPassTheRateLimitThenTheCapOnce()
    {
        await using var cluster = await NodeCluster.StartAsync(settings: new Dictionary<string, string?>
        {
            ["RateLimiting:VisitorChatsPerMinute"] = "6",
            ["Chats:MaxOpenPerVisitor"] = "4",
        });
        await Conversation.SignInAsync(cluster.Nodes[0], ChatRequests.Commercials);
        var visitorId = Guid.NewGuid();
        var chats = Enumerable.Range(0, 7).Select(_ => Guid.NewGuid()).ToList();

        var statuses = await Task.WhenAll(chats.Select((chatId, i) => Task.Run(async () =>
        {
            using var visitor = cluster.Nodes[i % 3].ClientFor(Roles.Visitor, visitorId);
            using var response = await visitor.PutChatAsync(chatId, ChatRequests.MinimalBody(visitorId));
            return response.StatusCode;
        })));

        // Seven attempts: the rate limit admits six, of which the cap admits four.
        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.Conflict));
        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(4, await cluster.Database.GrainRecordsAsync(GrainStorage.Chat));
        Assert.Equal(1, await cluster.Database.GrainRecordsAsync(GrainStorage.Visitor, visitorId));
    }

    [Fact]
    public async Task ThirtyOneCreationsFromOneClientSpreadOverThreeNodesAdmitExactlyThirty()
    {
        await using var cluster = await NodeCluster.StartAsync(settings: new Dictionary<string, string?> { ["RateLimiting:ChatCreationsPerMinute"] = "30" });

        var statuses = await Task.WhenAll(Enumerable.Range(0, 31).Select(i => Task.Run(async () =>
        {
            using var commercial = cluster.Nodes[i % 3].ClientFor(Roles.Commercial);
            using var response = await commercial.PutChatAsync(Guid.NewGuid(), ChatRequests.FullBody(Guid.NewGuid()));
            return response.StatusCode;
        })));

        Assert.Equal(30, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(30, await cluster.Database.GrainRecordsAsync(GrainStorage.Chat));
    }
}
