using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Events;

/// <summary>
/// The feed of a three-node cluster on PostgreSQL, read while the nodes store events concurrently:
/// every node serves one order, and a consumer following its cursor from node to node misses none,
/// sees none twice, and sees each chat's events in chatSeq order.
/// </summary>
[Collection(NodeClusterCollection.Name)]
public sealed class EventFeedClusterTests(NodeClusterFixture fixture)
{
    private const int Chats = 30;

    private NodeCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task AConsumerFollowingItsCursorAcrossNodesDuringConcurrentWritesMissesNoneAndRepeatsNone()
    {
        var admins = Cluster.Nodes.Select(node => node.ClientFor(Roles.Admin)).ToArray();
        var creators = Cluster.Nodes.Select(node => node.ClientFor(Roles.Commercial)).ToArray();
        try
        {
            var start = await EventFeed.EndAsync(admins[0]);
            var chats = Enumerable.Range(0, Chats).Select(_ => Guid.NewGuid()).ToList();
            var load = Task.WhenAll(chats.Select((chatId, i) => Task.Run(async () =>
            {
                using var created = await creators[i % 3].PutChatAsync(chatId, ChatRequests.FullBody(Guid.NewGuid()));
                Assert.Equal(HttpStatusCode.OK, created.StatusCode);
                using var closed = await admins[(i + 1) % 3].PostAsync(new Uri($"/v2/chats/{chatId}/close", UriKind.Relative), null);
                Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
            })));

            // Small pages, each from the next node, while the load runs.
            var consumed = new List<JsonObject>();
            var cursor = start;
            var deadline = DateTime.UtcNow + EventFeed.Patience;
            for (var k = 0; consumed.Count(e => chats.Contains((Guid)e["chatId"]!)) < 2 * Chats && DateTime.UtcNow < deadline; k++)
            {
                var page = await EventFeed.ReadAsync(admins[k % 3], $"?after={cursor}&limit=5&wait=1&types=chat.created,chat.closed");
                consumed.AddRange(page["events"]!.AsArray().Select(e => e!.AsObject()));
                cursor = (string)page["nextCursor"]!;
            }
            await load;

            Assert.Equal(consumed.Count, consumed.Select(e => (Guid)e["id"]!).Distinct().Count());
            foreach (var chatId in chats)
            {
                var ofChat = consumed.Where(e => EventFeed.OfChat(e, chatId)).ToList();
                Assert.Equal([EventTypes.ChatCreated, EventTypes.ChatClosed], ofChat.Select(e => (string)e["type"]!));
                Assert.Equal([1L, 2L], ofChat.Select(e => (long)e["chatSeq"]!));
            }

            // Every node serves the same events in the same order.
            var orders = await Task.WhenAll(admins.Select(async admin =>
                (await EventFeed.ReadUntilAsync(admin, start, read => read.Count >= consumed.Count, "&limit=7&types=chat.created,chat.closed"))
                    .Select(e => (Guid)e["id"]!).Take(consumed.Count).ToList()));
            var expected = consumed.Select(e => (Guid)e["id"]!).ToList();
            Assert.All(orders, order => Assert.Equal(expected, order));
        }
        finally
        {
            foreach (var client in admins.Concat(creators))
            {
                client.Dispose();
            }
        }
    }
}
