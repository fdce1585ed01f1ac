using ChatGrains.Grains;
using System.Net;
using ChatGrains.ApiGateway.Auth;
using System.Text.Json.Nodes;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;
using ChatGrains.Tests.LiveChat;

namespace ChatGrains.Tests.Cluster;

/// <summary>
/// The database going away: requests get 503 with Retry-After (not a hang, not a 500) in each
/// API's format, the node stays up, and it serves again by itself when the database is back.
/// Each test owns its server.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class DatabaseOutageTests
{
    [Fact]
    public async Task WhileTheDatabaseIsDownRequestsGet503AndTheNodeRecoversByItself()
    {
        await using var server = await PostgresServer.StartNewAsync(durable: true);
        await using var database = await server.CreateDatabaseAsync();
        await using var node = await TestNode.StartOnPostgresAsync(database);
        using var client = node.ClientFor(Roles.Admin);
        using (var before = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid())))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await server.CrashAsync();

        using (var down = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid())))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.NotNull(down.Headers.RetryAfter);
            var problem = await down.JsonAsync();
            Assert.Equal(503, (int?)problem["status"]);
            Assert.DoesNotContain("Npgsql", problem.ToJsonString(), StringComparison.Ordinal);
        }
        using (var guest = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() }))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, guest.StatusCode);
            Assert.NotNull(guest.Headers.RetryAfter);
            var envelope = await guest.EnvelopeAsync();
            GuestSessionRequests.AssertEnvelope(envelope, guest, success: false);
            Assert.Equal("SERVICE_UNAVAILABLE", (string?)envelope["error"]!["code"]);
            Assert.DoesNotContain("Npgsql", envelope.ToJsonString(), StringComparison.Ordinal);
        }
        using (var liveChat = await node.Client.PostLiveChatAsync("""{"name": "Budi", "city": "Solo", "country": "Indonesia"}"""))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, liveChat.StatusCode);
            Assert.NotNull(liveChat.Headers.RetryAfter);
            Assert.Equal(new JsonObject { ["message"] = "Layanan sedang tidak tersedia; coba lagi nanti." }.ToJsonString(), (await liveChat.BodyAsync()).ToJsonString());
            Assert.False(liveChat.Headers.Contains("Set-Cookie"));
        }
        using (var live = await node.Client.GetAsync(new Uri("/health/live", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        using (var ready = await node.Client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        await server.StartAsync();

        var chatId = Guid.NewGuid();
        var status = await RetryUntilOkAsync(() => client.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid())));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, await database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }

    [Fact]
    public async Task ANodeStartedBeforeItsDatabaseAnswers503ThenBecomesReady()
    {
        await using var server = await PostgresServer.StartNewAsync();
        await using var database = await server.CreateDatabaseAsync();
        await server.StopAsync();

        await using var node = await TestNode.StartAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings:ChatGrains"] = database.ConnectionString,
            ["Jwt:SigningKeyPath"] = TestKeys.SigningKeyPath,
        }, database, waitUntilReady: false);
        using var client = node.ClientFor(Roles.Admin);

        using (var live = await node.Client.GetAsync(new Uri("/health/live", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        using (var early = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid())))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
            Assert.NotNull(early.Headers.RetryAfter);
        }

        await server.StartAsync();

        await node.WaitUntilReadyAsync(TimeSpan.FromSeconds(30));
        using var created = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
    }

    private static async Task<HttpStatusCode> RetryUntilOkAsync(Func<Task<HttpResponseMessage>> send)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await send();
            if (response.StatusCode == HttpStatusCode.OK || DateTime.UtcNow > deadline)
            {
                return response.StatusCode;
            }
            // Anything but "unavailable, retry" while the pool reconnects is a bug.
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            await Task.Delay(200);
        }
    }
}
