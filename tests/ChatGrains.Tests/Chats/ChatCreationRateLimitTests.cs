using System.Net;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using static ChatGrains.Tests.Chats.ChatCreationAssertions;

namespace ChatGrains.Tests.Chats;

/// <summary>
/// Creating chats is limited per visitor token (<c>RateLimiting:VisitorChatsPerMinute</c>) and per
/// client address for every role (<c>RateLimiting:ChatCreationsPerMinute</c>); a replay of an
/// existing chat is never limited. (The test node's defaults are generous; each test sets its own.)
/// </summary>
public sealed class ChatCreationRateLimitTests
{
    [Fact]
    public async Task TheEleventhFreshChatOfAVisitorInAMinuteIs429AndItsExistingChatsStillReplay()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["RateLimiting:VisitorChatsPerMinute"] = "10" });
        await Conversation.SignInAsync(node, ChatRequests.Commercials);
        var visitorId = Guid.NewGuid();
        using var visitor = node.ClientFor(Roles.Visitor, visitorId);
        var chats = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid()).ToList();

        for (var i = 0; i < chats.Count; i++)
        {
            using var created = await visitor.PutChatAsync(chats[i], ChatRequests.MinimalBody(visitorId));
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            Assert.Equal("\"per-visitor\";q=10;w=60, \"per-client\";q=1000000;w=60", created.Headers.GetValues("RateLimit-Policy").Single());
            Assert.Equal($"r={9 - i}", Remaining(created, "per-visitor"));
        }
        var eleventh = Guid.NewGuid();
        using var refused = await visitor.PutChatAsync(eleventh, ChatRequests.MinimalBody(visitorId));
        var otherVisitorId = Guid.NewGuid();
        using var otherVisitor = node.ClientFor(Roles.Visitor, otherVisitorId);
        using var otherVisitorFromTheSameAddress = await otherVisitor.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(otherVisitorId));

        await AssertTooManyAsync(refused);
        Assert.Equal("r=0", Remaining(refused, "per-visitor"));
        // The visitor's own limit refused it first: the address's shared budget was not charged.
        Assert.Equal("r=999990", Remaining(refused, "per-client"));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, eleventh));
        Assert.Equal(HttpStatusCode.OK, otherVisitorFromTheSameAddress.StatusCode);
        foreach (var chatId in chats)
        {
            using var replay = await visitor.PutChatAsync(chatId, ChatRequests.MinimalBody(visitorId));
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
            Assert.Equal(chatId.ToString(), (string?)(await replay.JsonAsync())["id"]);
            // Nothing was consulted, so there is no state to report.
            Assert.False(replay.Headers.Contains("RateLimit"));
        }
    }

    [Fact]
    public async Task CommercialsAreLimitedPerClientAddressWhateverTheirTokenAndReplaysPass()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
        {
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
            ["RateLimiting:ChatCreationsPerMinute"] = "3",
        });
        // One the spec's body offers its chats to, so it may replay them.
        using var commercial = node.ClientFor(Roles.Commercial, ChatRequests.Commercials[0]);
        using var secondCommercial = node.ClientFor(Roles.Commercial);
        var first = Guid.NewGuid();

        for (var i = 0; i < 3; i++)
        {
            using var created = await commercial.PutChatAsync(i == 0 ? first : Guid.NewGuid(), ChatRequests.FullBody(Guid.NewGuid()), forwardedFor: "203.0.113.5");
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            Assert.Equal("\"per-client\";q=3;w=60", created.Headers.GetValues("RateLimit-Policy").Single());
            Assert.Equal($"r={2 - i}", Remaining(created, "per-client"));
        }
        var refusedId = Guid.NewGuid();
        using var refused = await commercial.PutChatAsync(refusedId, ChatRequests.FullBody(Guid.NewGuid()), forwardedFor: "203.0.113.5");
        using var otherToken = await secondCommercial.PutChatAsync(Guid.NewGuid(), ChatRequests.FullBody(Guid.NewGuid()), forwardedFor: "203.0.113.5");
        using var replay = await commercial.PutChatAsync(first, ChatRequests.FullBody(Guid.NewGuid()), forwardedFor: "203.0.113.5");
        using var otherAddress = await commercial.PutChatAsync(Guid.NewGuid(), ChatRequests.FullBody(Guid.NewGuid()), forwardedFor: "203.0.113.6");

        await AssertTooManyAsync(refused);
        Assert.Equal("r=0", Remaining(refused, "per-client"));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, refusedId));
        await AssertTooManyAsync(otherToken);
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(first.ToString(), (string?)(await replay.JsonAsync())["id"]);
        Assert.Equal(HttpStatusCode.OK, otherAddress.StatusCode);
    }

    [Fact]
    public async Task AnIPv6Slash64IsOneClientForChatCreation()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
        {
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
            ["RateLimiting:ChatCreationsPerMinute"] = "3",
        });
        using var admin = node.ClientFor(Roles.Admin);

        for (var i = 1; i <= 3; i++)
        {
            using var created = await admin.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()), forwardedFor: $"2001:db8:5:5::{i}");
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }
        using var refused = await admin.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()), forwardedFor: "2001:db8:5:5::4");
        using var otherNetwork = await admin.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()), forwardedFor: "2001:db8:5:6::1");

        await AssertTooManyAsync(refused);
        Assert.Equal(HttpStatusCode.OK, otherNetwork.StatusCode);
    }

    [Fact]
    public async Task WithRateLimitingOffNoChatLimitIsConsulted()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
        {
            ["RateLimiting:Enabled"] = "false",
            ["RateLimiting:ChatCreationsPerMinute"] = "1",
        });
        using var admin = node.ClientFor(Roles.Admin);

        for (var i = 0; i < 3; i++)
        {
            using var created = await admin.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            Assert.False(created.Headers.Contains("RateLimit"));
        }
    }
}
