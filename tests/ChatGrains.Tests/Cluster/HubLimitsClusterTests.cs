using System.Net;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;

namespace ChatGrains.Tests.Cluster;

/// <summary>The hub's per-subject limits hold for the cluster as a whole: one grain counts each subject.</summary>
[Trait("Category", "Cluster")]
public sealed class HubLimitsClusterTests
{
    [Fact]
    public async Task ASendersMessagesAndConnectionsOverTwoNodesCountOnceAndAStoppedNodesConnectionsFreeTheirSlots()
    {
        await using var cluster = await NodeCluster.StartAsync(nodeCount: 2, settings: new Dictionary<string, string?>
        {
            ["Hub:MaxConnectionsPerUser"] = "4",
            // The burst as shipped (10); a refill slow enough that the test's own pace never earns a token.
            ["Hub:MessagesPerSecond"] = "0.01",
            ["Hub:MessageBurst"] = null,
        });
        var (first, second) = (cluster.Nodes[0], cluster.Nodes[1]);
        var (visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(first, chatId, visitor, Guid.NewGuid());
        var token = first.Token(Roles.Visitor, visitor);
        var hubs = new List<HubClient>();
        try
        {
            // The first connection places the subject's counters on the first node, which stays.
            hubs.Add(await HubClient.ConnectAsync(first, token));
            hubs.Add(await HubClient.ConnectAsync(second, token));
            hubs.Add(await HubClient.ConnectAsync(second, token, HttpTransportType.LongPolling));
            hubs.Add(await HubClient.ConnectAsync(first, token));

            foreach (var node in cluster.Nodes)
            {
                var refused = await Assert.ThrowsAsync<HttpRequestException>(() => HubClient.ConnectAsync(node, token, HttpTransportType.LongPolling));
                Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            }

            for (var i = 1; i <= 10; i++)
            {
                await hubs[i % hubs.Count].SendAsync(chatId, $"pesan {i}");
            }
            foreach (var hub in hubs)
            {
                var refused = await Assert.ThrowsAsync<HubException>(() => hub.SendAsync(chatId, "pesan 11"));
                Assert.Contains("HubException: RATE_LIMITED: ", refused.Message, StringComparison.Ordinal);
            }
            Assert.Equal(10, (await hubs[0].JoinAsync(chatId)).GetProperty("chat").GetProperty("totalMessages").GetInt32());

            // The second node goes with its two connections: their slots are free on the first, and
            // the limit holds again. Up to all four may be free: a leaving silo can take the
            // counter's directory entry with it, and a new activation counts from zero.
            await second.StopAsync();
            hubs.Add(await WaitForRoomAsync(first, token));
            var admittedAfter = 1;
            while (true)
            {
                try
                {
                    hubs.Add(await HubClient.ConnectAsync(first, token, HttpTransportType.LongPolling));
                    admittedAfter++;
                }
                catch (HttpRequestException full) when (full.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    break;
                }
                Assert.True(admittedAfter <= 4, "more connections than the limit after the node stopped");
            }
            Assert.InRange(admittedAfter, 2, 4);
        }
        finally
        {
            await Task.WhenAll(hubs.Select(hub => hub.DisposeAsync().AsTask()));
        }
    }

    /// <summary>A connection once the node has counted the stopped node's connections out (it does not wait for that).</summary>
    private static async Task<HubClient> WaitForRoomAsync(TestNode node, string token)
    {
        var deadline = DateTime.UtcNow + HubClient.Patience;
        while (true)
        {
            try
            {
                return await HubClient.ConnectAsync(node, token, HttpTransportType.LongPolling);
            }
            catch (HttpRequestException refused) when (refused.StatusCode == HttpStatusCode.TooManyRequests && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
