using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;
using ChatGrains.Tests.LiveChat;

namespace ChatGrains.Tests.Cluster;

/// <summary>
/// A node that served every API and was disposed leaves nothing of itself reachable in its
/// process: whoever hosts nodes in turn in one process (this suite starts hundreds) gets their
/// memory back. Each leak found so far (ASP.NET Core's rate-limiting middleware, the default
/// EventSource logger) kept the whole node: silo, grains, caches.
/// </summary>
public sealed class StoppedNodeTests
{
    [Fact]
    public async Task ADisposedSqliteNodeIsCollected() =>
        await AssertCollectedAsync(await ServeThenDisposeAsync(TestNode.StartOnSqliteAsync()));

    [Fact]
    public async Task ADisposedPostgresNodeIsCollected()
    {
        var server = await PostgresServer.Shared;
        await using var database = await server.CreateDatabaseAsync();
        await AssertCollectedAsync(await ServeThenDisposeAsync(TestNode.StartOnPostgresAsync(database)));
    }

    private static async Task AssertCollectedAsync(WeakReference services)
    {
        // Collected once the node's last timers and pooled connections have let go: a condition polled, not a pause.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (IsReachable(services) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.False(IsReachable(services), "The disposed node's service provider is still reachable.");
    }

    private static bool IsReachable(WeakReference reference)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return reference.IsAlive;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> ServeThenDisposeAsync(Task<TestNode> starting)
    {
        await using var node = await starting;
        using (var guest = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() }))
        {
            Assert.True(guest.IsSuccessStatusCode, $"{(int)guest.StatusCode}");
            Assert.True(guest.Headers.Contains("RateLimit"), "the per-client limit answered");
        }
        using (var liveChat = await node.Client.PostLiveChatAsync("""{"name": "Budi", "city": "Solo", "country": "Indonesia"}"""))
        {
            Assert.True(liveChat.IsSuccessStatusCode, $"{(int)liveChat.StatusCode}");
        }
        using var commercial = node.ClientFor(Roles.Commercial);
        using (var chat = await commercial.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid())))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }
        return new WeakReference(node.Services);
    }
}
