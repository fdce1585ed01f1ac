using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ChatGrains.Silo.Membership;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatGrains.Tests.Cluster;

/// <summary>Membership as the dashboard shows it: alive, left on a graceful stop, dead after a crash.</summary>
[Trait("Category", "Cluster")]
public sealed class MembershipTests
{
    private static readonly Dictionary<string, string?> FastHeartbeats = new()
    {
        ["Cluster:HeartbeatInterval"] = "00:00:01",
        ["Cluster:DeadAfter"] = "00:00:04",
    };

    [Fact]
    public async Task NodesAreListedAliveThenLeftOnAGracefulStopAndDeadAfterAKill()
    {
        await using var cluster = await NodeCluster.StartAsync(nodeCount: 2, settings: FastHeartbeats);
        await using var crashing = await NodeProcess.StartAsync(new Dictionary<string, string?>(FastHeartbeats)
        {
            ["ConnectionStrings:ChatGrains"] = cluster.Database.ConnectionString,
            ["Jwt:SigningKeyPath"] = TestKeys.SigningKeyPath,
        });
        using var dashboard = DashboardClient(cluster.Nodes[0]);

        var nodes = await WaitForAsync(dashboard, n => n.Count == 3 && n.All(x => x.Status == "alive"));
        Assert.Contains(nodes, n => n.Url == crashing.BaseAddress.ToString().TrimEnd('/'));

        await crashing.KillAsync();
        await cluster.Nodes[1].StopAsync();

        nodes = await WaitForAsync(dashboard, n => n.Count(x => x.Status == "dead") == 1 && n.Count(x => x.Status == "left") == 1, TimeSpan.FromSeconds(15));
        Assert.Equal("dead", nodes.Single(n => n.Url == crashing.BaseAddress.ToString().TrimEnd('/')).Status);
        Assert.Equal("left", nodes.Single(n => n.Url == cluster.Nodes[1].BaseAddress.ToString().TrimEnd('/')).Status);
        Assert.Equal("alive", nodes.Single(n => n.Url == cluster.Nodes[0].BaseAddress.ToString().TrimEnd('/')).Status);
    }

    [Fact]
    public async Task TrafficSentToOneNodeShowsInThatNodesStatsAndInTheTotals()
    {
        await using var cluster = await NodeCluster.StartAsync(nodeCount: 3, settings: FastHeartbeats);
        var target = cluster.Nodes[1];
        var since = DateTimeOffset.UtcNow;
        using var client = target.ClientFor("admin");
        for (var i = 0; i < 25; i++)
        {
            using var response = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
        }
        using var bad = await client.PutChatAsync("not-a-uuid", "{}");

        var store = cluster.Nodes[0].Services.GetRequiredService<IMembershipStore>();
        var targetId = (await NodeIdsAsync(cluster))[1];
        IReadOnlyList<(string NodeId, NodeStats Stats)> history = [];
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            history = await store.HistoryAsync(since, CancellationToken.None);
            if (Requests(history, targetId) == 26)
            {
                break;
            }
            await Task.Delay(250);
        }

        Assert.Equal(26, Requests(history, targetId));
        Assert.Equal(1, history.Where(h => h.NodeId == targetId).Sum(h => h.Stats.Endpoints.GetValueOrDefault("/v2/chats/{chatId}")?.ClientErrors ?? 0));
        Assert.Equal(0, history.Where(h => h.NodeId != targetId).Sum(h => h.Stats.Endpoints.GetValueOrDefault("/v2/chats/{chatId}")?.Requests ?? 0));
        Assert.Equal(26, history.Sum(h => h.Stats.Endpoints.Values.Sum(e => e.Requests)));

        // The grains those requests created, as the nodes tallied them with the same heartbeats.
        using var dashboard = DashboardClient(cluster.Nodes[2]);
        var chats = (await dashboard.GetFromJsonAsync<JsonArray>(new Uri("/dashboard/api/grains", UriKind.Relative)))!
            .Single(g => (string?)g!["kind"] == "chats")!;
        Assert.Equal(25, (long?)chats["lastMinute"]);
        Assert.Equal(25, (long?)chats["lastHour"]);
    }

    private static long Requests(IReadOnlyList<(string NodeId, NodeStats Stats)> history, string nodeId) =>
        history.Where(h => h.NodeId == nodeId).Sum(h => h.Stats.Endpoints.GetValueOrDefault("/v2/chats/{chatId}")?.Requests ?? 0);

    private static async Task<List<string>> NodeIdsAsync(NodeCluster cluster)
    {
        using var dashboard = DashboardClient(cluster.Nodes[0]);
        var nodes = await WaitForAsync(dashboard, n => n.Count == cluster.Nodes.Count);
        return [.. cluster.Nodes.Select(node => nodes.Single(n => n.Url == node.BaseAddress.ToString().TrimEnd('/')).NodeId)];
    }

    private static HttpClient DashboardClient(TestNode node)
    {
        var client = new HttpClient { BaseAddress = node.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", node.Token("admin", Guid.NewGuid()));
        return client;
    }

    private sealed record Member(string NodeId, string Url, string Status);

    private static async Task<List<Member>> WaitForAsync(HttpClient dashboard, Func<List<Member>, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        List<Member> members;
        do
        {
            var overview = (await dashboard.GetFromJsonAsync<JsonObject>(new Uri("/dashboard/api/overview", UriKind.Relative)))!;
            members = [.. overview["nodes"]!.AsArray().Select(n => new Member((string)n!["nodeId"]!, (string)n["url"]!, (string)n["status"]!))];
            if (condition(members))
            {
                return members;
            }
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"membership never matched: {string.Join(", ", members.Select(m => $"{m.Url}={m.Status}"))}");
        return members;
    }
}
