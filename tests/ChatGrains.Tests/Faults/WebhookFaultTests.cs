using System.Net;
using System.Net.Http.Json;
using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;
using ChatGrains.Tests.Webhooks;
using Xunit.Abstractions;

namespace ChatGrains.Tests.Faults;

/// <summary>
/// Webhook deliveries while nodes die: three node processes behind nginx, a receiver on loopback,
/// creations through the balancer, and every node SIGKILLed in turn (restarted but the last), the
/// first ones mid-load — so the node holding the webhook's grain (wherever it was placed, and
/// wherever it moved) and nodes that had just stored chats are each killed at least once.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", "Faults")]
public sealed class WebhookFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EveryAcknowledgedCreationsEventReachesTheReceiverAndNoneOfAChatNeverStored()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var cluster = await BalancedCluster.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Webhooks:AllowHttp"] = "true",
            ["Webhooks:AllowPrivateNetworks"] = "true",
            ["Webhooks:PollInterval"] = "00:00:00.100",
            ["Webhooks:FirstRetryAfter"] = "00:00:00.200",
            ["Webhooks:MaxRetryInterval"] = "00:00:01",
        });
        using (var admin = cluster.CreateClient())
        using (var created = await admin.PostAsJsonAsync(new Uri("/v2/webhooks", UriKind.Relative),
            new { url = receiver.Url.ToString(), types = new[] { EventTypes.ChatCreated } }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var client = cluster.CreateClient();
        var load = LoadGenerator.Start(client, TimeSpan.FromSeconds(16), requestsPerSecond: 150);
        for (var node = 0; node < cluster.Nodes.Count; node++)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            output.WriteLine($"SIGKILL node {node + 1} at {load.Elapsed.TotalSeconds:F1} s");
            await cluster.Nodes[node].KillAsync();
            if (node < cluster.Nodes.Count - 1)
            {
                await cluster.RestartNodeAsync(node);
            }
        }
        var sent = await load.Completion;

        var acknowledged = sent.Where(s => s.Acknowledged).Select(s => s.ChatId).ToHashSet();
        // Every chat stored (acknowledged or not: an answer lost with its node) has its event.
        var stored = (await cluster.Database.GrainPayloadsAsync(GrainStorage.Chat)).Select(p => (Guid)p["Value"]!["Id"]!).ToHashSet();
        var received = await receiver.WaitForAsync(
            r => stored.IsSubsetOf(r.Where(d => d.Type == EventTypes.ChatCreated).Select(d => d.ChatId!.Value)), TimeSpan.FromSeconds(90));
        var delivered = received.Where(d => d.Type == EventTypes.ChatCreated).Select(d => d.ChatId!.Value).ToList();
        output.WriteLine($"sent {sent.Count}, acknowledged {acknowledged.Count}, stored {stored.Count}, deliveries {delivered.Count}, " +
            $"distinct {delivered.Distinct().Count()} (a repeat is allowed when the webhook's node died mid-round)");

        Assert.True(acknowledged.Count > 500, $"only {acknowledged.Count} creations were acknowledged");
        Assert.Empty(acknowledged.Except(delivered).Select(id => $"acknowledged, never delivered: {id}"));
        Assert.Empty(delivered.Except(stored).Select(id => $"delivered, never stored: {id}"));
        Assert.Empty(stored.Except(delivered).Select(id => $"stored, never delivered: {id}"));
    }
}
