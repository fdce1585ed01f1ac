using System.Net;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using static ChatGrains.Tests.Chats.ChatCreationAssertions;

namespace ChatGrains.Tests.Chats;

/// <summary>
/// <c>Chats:MaxPendingPerClientAddress</c>: chats created with visitor tokens from one client
/// address (an IPv4 address, an IPv6 /64) that are still PENDING are capped, whatever the visitor
/// (free sessions cost nothing); the next creation is 409 and writes nothing. An accepted chat
/// frees its slot; replays never count. The address comes through a trusted proxy here.
/// </summary>
public sealed class PendingChatsPerAddressCapTests
{
    private const string AtCap = "This client address has reached the maximum of 10 pending chats.";

    private static async Task<TestNode> StartAsync()
    {
        var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
        {
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
            ["Chats:MaxPendingPerClientAddress"] = "10",
        });
        await Conversation.SignInAsync(node, ChatRequests.Commercials);
        return node;
    }

    /// <summary>A chat opened (or replayed) from <paramref name="address"/>, by default by a fresh visitor (a fresh free session).</summary>
    private static async Task<(Guid ChatId, Guid VisitorId, HttpResponseMessage Response)> OpenAsync(TestNode node, string address, Guid? chatId = null, Guid? visitorId = null)
    {
        var visitor = visitorId ?? Guid.NewGuid();
        using var client = node.ClientFor(Roles.Visitor, visitor);
        var id = chatId ?? Guid.NewGuid();
        return (id, visitor, await client.PutChatAsync(id, ChatRequests.MinimalBody(visitor), forwardedFor: address));
    }

    [Fact]
    public async Task TheEleventhPendingChatFromOneAddressIs409UntilOneIsAccepted()
    {
        await using var node = await StartAsync();
        var chats = new List<(Guid ChatId, Guid VisitorId)>();
        for (var i = 0; i < 10; i++)
        {
            var (chatId, visitorId, response) = await OpenAsync(node, "203.0.113.7");
            using (response)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            chats.Add((chatId, visitorId));
        }

        var (eleventh, _, refused) = await OpenAsync(node, "203.0.113.7");
        using (refused)
        {
            await AssertProblemAsync(refused, HttpStatusCode.Conflict, AtCap);
        }
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, eleventh));
        Assert.Empty(await node.Database.ChatEventTypesAsync(eleventh));
        using (var fromElsewhere = (await OpenAsync(node, "203.0.113.8")).Response)
        {
            Assert.Equal(HttpStatusCode.OK, fromElsewhere.StatusCode);
        }
        using (var replay = (await OpenAsync(node, "203.0.113.7", chats[0].ChatId, chats[0].VisitorId)).Response)
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        }

        await using (var agent = await Conversation.CommercialAsync(node, ChatRequests.Commercials[0]))
        {
            await agent.AcceptAsync(chats[3].ChatId);
        }
        await node.CollectIdleGrainsAsync();
        var (_, _, afterAccept) = await OpenAsync(node, "203.0.113.7", eleventh);
        var (_, _, twelfth) = await OpenAsync(node, "203.0.113.7");

        using (afterAccept)
        using (twelfth)
        {
            Assert.Equal(HttpStatusCode.OK, afterAccept.StatusCode);
            await AssertProblemAsync(twelfth, HttpStatusCode.Conflict, AtCap);
        }
    }

    [Fact]
    public async Task AddressesOfOneIPv6Slash64ShareTheCap()
    {
        await using var node = await StartAsync();
        for (var i = 1; i <= 10; i++)
        {
            using var response = (await OpenAsync(node, $"2001:db8:1:1::{i:x}")).Response;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var sameNetwork = (await OpenAsync(node, "2001:db8:1:1:ffff:ffff:ffff:ffff")).Response;
        using var nextNetwork = (await OpenAsync(node, "2001:db8:1:2::1")).Response;

        await AssertProblemAsync(sameNetwork, HttpStatusCode.Conflict, AtCap);
        Assert.Equal(HttpStatusCode.OK, nextNetwork.StatusCode);
    }
}
