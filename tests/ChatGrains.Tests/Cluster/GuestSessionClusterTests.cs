using ChatGrains.Grains;
using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Cluster;

[Collection(NodeClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class GuestSessionClusterTests(NodeClusterFixture fixture)
{
    [Fact]
    public async Task DuplicatesRacingOnThreeNodesMakeOneSessionAndAllSeeIt()
    {
        var sessionId = GuestSessionRequests.NewSessionId();
        var cluster = fixture.Cluster;

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => Task.Run(async () =>
        {
            using var response = await cluster.Nodes[i % 3].Client.PostSessionAsync(
                new JsonObject { ["session_id"] = sessionId, ["guest_name"] = $"racer {i}" });
            return (response.StatusCode, Session: (await response.EnvelopeAsync())["data"]!["session"]!.ToJsonString());
        })));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(29, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Single(responses.Select(r => r.Session).Distinct(StringComparer.Ordinal));
        Assert.Equal(1, await cluster.Database.GrainRecordsAsync(GrainStorage.GuestSession, sessionId));
    }
}

/// <summary>The limit holds for the cluster as a whole; each test has its own cluster (and counts).</summary>
[Trait("Category", "Cluster")]
public sealed class ClusterRateLimitTests
{
    private static readonly Dictionary<string, string?> SixtyPerMinute = new() { ["RateLimiting:PermitsPerMinute"] = "60" };

    [Fact]
    public async Task SixtyOneRequestsFromOneClientSpreadOverThreeNodesAdmitExactlySixty()
    {
        await using var cluster = await NodeCluster.StartAsync(settings: SixtyPerMinute);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 61).Select(i => Task.Run(async () =>
        {
            using var response = await cluster.Nodes[i % 3].Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() });
            return response.StatusCode;
        })));

        Assert.Equal(60, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(60, await cluster.Database.GrainRecordsAsync(GrainStorage.GuestSession));
    }

    [Fact]
    public async Task SpoofedForwardedForHeadersDoNotResetTheClusterCount()
    {
        await using var cluster = await NodeCluster.StartAsync(settings: SixtyPerMinute);
        for (var i = 0; i < 60; i++)
        {
            using var admitted = await cluster.Nodes[i % 3].Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() });
            Assert.Equal(HttpStatusCode.Created, admitted.StatusCode);
        }

        foreach (var node in cluster.Nodes)
        {
            using var spoofed = await node.Client.PostSessionAsync(
                new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() }.ToJsonString(), forwardedFor: "198.51.100.7");
            Assert.Equal(HttpStatusCode.TooManyRequests, spoofed.StatusCode);
        }
    }
}
