using System.Net;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using static ChatGrains.Tests.Chats.ChatCreationAssertions;

namespace ChatGrains.Tests.Chats;

/// <summary>
/// <c>Chats:MaxOpenPerVisitor</c>: a visitor that opened that many chats (none of them CLOSED; see
/// <c>ChatLifecycleTests</c> for closing) is refused a new one with 409, and nothing is written; the count is durable.
/// </summary>
public sealed class VisitorChatCapTests
{
    private const string AtCap = "The visitor has reached the maximum of 20 open chats.";

    private static async Task<TestNode> StartAsync()
    {
        var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["Chats:MaxOpenPerVisitor"] = "20" });
        await Conversation.SignInAsync(node, ChatRequests.Commercials);
        return node;
    }

    [Fact]
    public async Task TheTwentyFirstChatOfAVisitorIs409AndWritesNothingWhileItsChatsStillReplay()
    {
        await using var node = await StartAsync();
        var visitorId = Guid.NewGuid();
        using var visitor = node.ClientFor(Roles.Visitor, visitorId);
        var chats = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToList();
        foreach (var chatId in chats)
        {
            using var created = await visitor.PutChatAsync(chatId, ChatRequests.MinimalBody(visitorId));
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        var twentyFirst = Guid.NewGuid();
        using var refused = await visitor.PutChatAsync(twentyFirst, ChatRequests.MinimalBody(visitorId));
        using var replay = await visitor.PutChatAsync(chats[0], ChatRequests.MinimalBody(visitorId));

        await AssertProblemAsync(refused, HttpStatusCode.Conflict, AtCap);
        Assert.False(refused.Headers.Contains("Retry-After"));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, twentyFirst));
        Assert.Empty(await node.Database.ChatEventTypesAsync(twentyFirst));
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(20, await node.Database.GrainRecordsAsync(GrainStorage.Chat));
    }

    [Fact]
    public async Task TheCountIsStoredSoItHoldsAfterTheGrainsAreCollected()
    {
        await using var node = await StartAsync();
        var visitorId = Guid.NewGuid();
        using var visitor = node.ClientFor(Roles.Visitor, visitorId);
        for (var i = 0; i < 20; i++)
        {
            using var created = await visitor.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(visitorId));
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        await node.CollectIdleGrainsAsync();
        using var refused = await visitor.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(visitorId));

        await AssertProblemAsync(refused, HttpStatusCode.Conflict, AtCap);
        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.Visitor, visitorId));
    }

    [Fact]
    public async Task ConcurrentCreationsAtTheCapAdmitExactlyTheCap()
    {
        await using var node = await StartAsync();
        var visitorId = Guid.NewGuid();
        using var visitor = node.ClientFor(Roles.Visitor, visitorId);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => Task.Run(async () =>
        {
            using var response = await visitor.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(visitorId));
            return response.StatusCode;
        })));

        Assert.Equal(20, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(10, statuses.Count(s => s == HttpStatusCode.Conflict));
        Assert.Equal(20, await node.Database.GrainRecordsAsync(GrainStorage.Chat));
    }

    [Fact]
    public async Task StaffOpeningChatsForAVisitorAreNeitherCappedNorCounted()
    {
        await using var node = await StartAsync();
        var visitorId = Guid.NewGuid();
        using var commercial = node.ClientFor(Roles.Commercial);
        using var visitor = node.ClientFor(Roles.Visitor, visitorId);
        for (var i = 0; i < 25; i++)
        {
            using var created = await commercial.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(visitorId));
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        using var own = await visitor.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(visitorId));

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }
}
