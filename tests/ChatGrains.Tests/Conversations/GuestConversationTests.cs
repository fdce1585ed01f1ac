using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Conversations;

/// <summary>
/// Spec 000's session carries its conversation's messages: the chat whose id is the session's
/// server-made <c>id</c>, opened and spoken in by a visitor holding a session token.
/// </summary>
public sealed class GuestConversationTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private TestNode Node => fixture.Node;

    [Fact]
    public async Task AReplayOfTheGuestSessionReturnsItsConversationsMessagesOldestFirst()
    {
        var body = new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId(), ["guest_name"] = "Sari" };
        using var created = await Node.Client.PostSessionAsync(body);
        var data = (await created.EnvelopeAsync())["data"]!;
        Assert.Empty(data["messages"]!.AsArray());
        var conversationId = data["session"]!["id"]!.GetValue<Guid>();
        var (visitor, commercial) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, conversationId, visitor, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await agent.AcceptAsync(conversationId);
        var first = await guest.SendAsync(conversationId, "Halo, saya Sari");
        await agent.SendAsync(conversationId, "Halo Sari, ada yang bisa dibantu?");

        using var replay = await Node.Client.PostSessionAsync(body);

        var messages = (await replay.EnvelopeAsync())["data"]!["messages"]!.AsArray();
        Assert.Equal(2, messages.Count);
        Assert.True(JsonNode.DeepEquals(new JsonObject
        {
            ["id"] = 1,
            ["sender"] = "visitor",
            ["body"] = "Halo, saya Sari",
            ["created_at"] = first.GetProperty("sentAt").GetString(),
        }, messages[0]), messages[0]!.ToJsonString());
        Assert.Equal("commercial", messages[1]!["sender"]!.GetValue<string>());
        Assert.Equal(2, messages[1]!["id"]!.GetValue<long>());
    }
}
