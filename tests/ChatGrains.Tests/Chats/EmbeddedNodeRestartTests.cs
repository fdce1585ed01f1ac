using System.Net;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Chats;

/// <summary>A single node on its SQLite file keeps its grains' records across a restart.</summary>
public sealed class EmbeddedNodeRestartTests
{
    [Fact]
    public async Task AChatCreatedBeforeARestartIsAnsweredUnchangedAfterIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"chatgrains-node-{Guid.NewGuid():N}", "chatgrains.db");
        var settings = new Dictionary<string, string?> { ["Storage:SqlitePath"] = path };
        var chatId = Guid.NewGuid();
        string created;
        await using (var first = await TestNode.StartAsync(settings, new SqliteTestDatabase(path)))
        {
            using var client = first.ClientFor(Roles.Admin);
            using var response = await client.PutChatAsync(chatId, ChatRequests.FullBody(Guid.NewGuid()));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            created = await response.Content.ReadAsStringAsync();
        }

        await using var restarted = await TestNode.StartAsync(settings, new SqliteTestDatabase(path));
        using var replayClient = restarted.ClientFor(Roles.Admin);
        using var replay = await replayClient.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(created, await replay.Content.ReadAsStringAsync());
        Assert.Equal(1, await restarted.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }
}
