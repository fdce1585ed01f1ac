using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;

namespace ChatGrains.Tests.Operators;

/// <summary>The Orleans dashboard's JSON on a three-node cluster: every silo, and the chat grain's calls.</summary>
[Collection(OperatorClusterCollection.Name)]
[Trait("Category", "Operators")]
public sealed class ClusterDashboardTests(OperatorClusterFixture fixture)
{
    private static bool ThreeActiveSilosAndChatCalls(JsonObject counters) =>
        (int?)counters["totalActiveHostCount"] == 3
        && counters["hosts"]!.AsArray().Count(h => (string?)h!["status"] == "Active") == 3
        && DashboardJson.ChatGrainCalls(counters) > 0;

    [Fact]
    public async Task AfterChatTrafficThroughEachNodeTheDashboardCountersShowThreeActiveSilosAndTheChatGrainsCalls()
    {
        await DashboardJson.PutChatsThroughEveryNodeAsync(fixture.Cluster);

        foreach (var node in fixture.Cluster.Nodes)
        {
            using var client = new OperatorClient(node);
            var counters = await OperatorClient.WaitForAsync(async () =>
                {
                    // The dashboard profiles grain calls only while someone is looking (its first
                    // query switches profiling on in every silo): traffic continues while we look.
                    await DashboardJson.PutChatsThroughEveryNodeAsync(fixture.Cluster, perNode: 1);
                    using var response = await client.GetAsync("/dashboard/DashboardCounters", client.Bearer(Roles.Admin), ("Host", OperatorClient.ForeignHost));
                    var text = await response.Content.ReadAsStringAsync();
                    Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
                    Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
                    return JsonNode.Parse(text)!.AsObject();
                },
                ThreeActiveSilosAndChatCalls, TimeSpan.FromSeconds(60), c => c.ToJsonString());

            var hosts = counters["hosts"]!.AsArray();
            Assert.Equal(3, hosts.Count);
            Assert.Equal(3, hosts.Select(h => (string?)h!["siloAddress"]).Distinct().Count());
            var chatStats = counters["simpleGrainStats"]!.AsArray().Where(s => (string?)s!["grainType"] == DashboardJson.ChatGrainType).ToList();
            Assert.NotEmpty(chatStats);
            Assert.All(chatStats, s => Assert.Contains((string?)s!["siloAddress"], hosts.Select(h => (string?)h!["siloAddress"])));
            Assert.True((int)counters["totalActivationCount"]! > 0, counters.ToJsonString());
        }
    }

    /// <summary>
    /// A sign-out on one node revokes the cookie on every node at once, and the revocation is
    /// read back from storage once the session's grain has been collected.
    /// </summary>
    [Fact]
    public async Task ACookieSignedOutOnOneNodeIsRefusedOnEveryNodeAlsoAfterItsGrainIsCollected()
    {
        var nodes = fixture.Cluster.Nodes;
        using var signInNode = new OperatorClient(nodes[0]);
        var (form, session) = await signInNode.SignInAsync(nodes[0].Token(Roles.Admin, Guid.NewGuid()));
        foreach (var node in nodes.Reverse())
        {
            using var client = new OperatorClient(node);
            using var open = await client.GetAsync("/dashboard/ClusterStats", null, ("Cookie", session));
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        }

        await signInNode.SignOutAsync(form, session);

        foreach (var node in nodes)
        {
            using var client = new OperatorClient(node);
            using var replayed = await client.GetAsync("/dashboard/ClusterStats", null, ("Cookie", session));
            await OperatorClient.AssertProblemAsync(replayed, HttpStatusCode.Unauthorized, OperatorClient.NoCredentials);
        }
        await nodes[0].CollectIdleGrainsAsync();
        using var last = new OperatorClient(nodes[^1]);
        using var afterCollection = await last.GetAsync("/dashboard/ClusterStats", null, ("Cookie", session));
        await OperatorClient.AssertProblemAsync(afterCollection, HttpStatusCode.Unauthorized, OperatorClient.NoCredentials);
    }
}

/// <summary>Traffic for the dashboard to show, and what its <c>DashboardCounters</c> JSON says about it.</summary>
public static class DashboardJson
{
    public const string ChatGrainType = "ChatGrains.Grains.ChatGrain";

    /// <summary>Chats created through every node of the cluster.</summary>
    /// <summary>Creates chats and reads each back (a created chat deactivates at once; one read back stays active for seconds).</summary>
    public static async Task PutChatsThroughEveryNodeAsync(Infrastructure.NodeCluster cluster, int perNode = 3)
    {
        foreach (var node in cluster.Nodes)
        {
            // An admin: a commercial reading back a chat not offered to it would be refused.
            using var client = node.ClientFor(Roles.Admin);
            for (var i = 0; i < perNode; i++)
            {
                var (chatId, body) = (Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
                using var created = await client.PutChatAsync(chatId, body);
                Assert.Equal(HttpStatusCode.OK, created.StatusCode);
                using var readBack = await client.PutChatAsync(chatId, body);
                Assert.Equal(HttpStatusCode.OK, readBack.StatusCode);
            }
        }
    }

    public static long ChatGrainCalls(JsonObject counters) =>
        counters["simpleGrainStats"]!.AsArray()
            .Where(s => (string?)s!["grainType"] == ChatGrainType)
            .Sum(s => (long)s!["totalCalls"]!);
}
