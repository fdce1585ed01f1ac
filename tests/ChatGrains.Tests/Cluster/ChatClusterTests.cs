using ChatGrains.Grains;
using System.Net;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Cluster;

/// <summary>Idempotent chat creation across three nodes on one PostgreSQL.</summary>
[Collection(NodeClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class ChatClusterTests(NodeClusterFixture fixture)
{
    private NodeCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task ReplaysOnOtherNodesWithOtherBodiesReturnTheChatFirstStored()
    {
        var chatId = Guid.NewGuid();
        using var node1 = Cluster.Nodes[0].ClientFor(Roles.Commercial);
        // A commercial the chat is offered to: only such a one (or an admin) may replay it.
        using var node2 = Cluster.Nodes[1].ClientFor(Roles.Commercial, ChatRequests.Commercials[1]);
        using var node3 = Cluster.Nodes[2].ClientFor(Roles.Admin);

        using var created = await node1.PutChatAsync(chatId, ChatRequests.FullBody(Guid.NewGuid()));
        using var replay2 = await node2.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));
        var other = ChatRequests.FullBody(Guid.NewGuid());
        other["priority"] = "LOW";
        using var replay3 = await node3.PutChatAsync(chatId, other);

        var first = await created.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay2.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replay3.StatusCode);
        Assert.Equal(first, await replay2.Content.ReadAsStringAsync());
        Assert.Equal(first, await replay3.Content.ReadAsStringAsync());
        Assert.Equal(1, await Cluster.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
        Assert.Equal([EventTypes.ChatCreated], await Cluster.Database.ChatEventTypesAsync(chatId));
    }

    [Fact]
    public async Task SixtyConcurrentPutsOfOneNewChatOnThreeNodesCreateOneChat()
    {
        var chatId = Guid.NewGuid();
        var clients = Cluster.Nodes.Select(n => n.ClientFor(Roles.Admin)).ToList();
        using var start = new ManualResetEventSlim();
        var puts = clients
            .SelectMany(client => Enumerable.Range(0, 20).Select(i => (client, i)))
            .Select(x => Task.Run(async () =>
            {
                var body = ChatRequests.FullBody(Guid.NewGuid());
                body["visitorInfo"]!["name"] = $"writer {x.i}";
                start.Wait();
                using var response = await x.client.PutChatAsync(chatId, body);
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }))
            .ToList();
        start.Set();

        var responses = await Task.WhenAll(puts);

        Assert.Equal(60, responses.Length);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Single(responses.Select(r => r.Body).Distinct(StringComparer.Ordinal));
        Assert.Equal(1, await Cluster.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
        Assert.Equal([EventTypes.ChatCreated], await Cluster.Database.ChatEventTypesAsync(chatId));
        clients.ForEach(c => c.Dispose());
    }

    [Fact]
    public async Task ATokenMintedForOneNodeIsAcceptedByEveryNode()
    {
        var token = Cluster.Nodes[0].Token(Roles.Commercial, Guid.NewGuid());
        foreach (var node in Cluster.Nodes)
        {
            using var client = new HttpClient { BaseAddress = node.BaseAddress };
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
            using var response = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var keySets = await Task.WhenAll(Cluster.Nodes.Select(n => n.Client.GetStringAsync(new Uri("/.well-known/jwks.json", UriKind.Relative))));
        Assert.Single(keySets.Distinct(StringComparer.Ordinal));
    }
}

/// <summary>Destructive or start-up cases: each gets a fresh cluster.</summary>
[Trait("Category", "Cluster")]
public sealed class ClusterStartupTests
{
    [Fact]
    public async Task ThreeNodesStartingAtOnceOnAnEmptyDatabaseApplyEachMigrationOnce()
    {
        await using var cluster = await NodeCluster.StartAsync(nodeCount: 3);

        var versions = await cluster.Database.StringsAsync("SELECT version FROM schema_migrations ORDER BY version");
        var appliers = await cluster.Database.StringsAsync("SELECT DISTINCT applied_by FROM schema_migrations");

        Assert.NotEmpty(versions);
        Assert.Equal(versions.Distinct().Count(), versions.Count);
        Assert.Equal(ChatGrains.Silo.Migration.For("postgres").Select(m => m.Version), versions);
        Assert.Single(appliers);
        // One Orleans cluster: every node's silo is active (status 3) in the membership table.
        Assert.Equal(["3", "3", "3"], await cluster.Database.StringsAsync("SELECT status FROM orleansmembershiptable ORDER BY status"));
        foreach (var node in cluster.Nodes)
        {
            using var ready = await node.Client.GetAsync(new Uri("/health/ready", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
    }
}
