using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;
using ChatGrains.Tests.LiveChat;

namespace ChatGrains.Tests.Http;

/// <summary>
/// A fault the node cannot classify (its grain table is gone) answers <c>500</c> in each API's own
/// format, saying nothing of what failed: no exception, no SQL, no table, no stack. (The guest
/// session API's: <c>GuestSessionEdgeTests.AnInternalErrorIsAnswered500WithoutInternals</c>.)
/// </summary>
public sealed class InternalErrorTests
{
    private static readonly string[] Internals = ["Sqlite", "Exception", "OrleansStorage", "SELECT", "INSERT", " at ", "Orleans."];

    private static void AssertNothingInternal(string body)
    {
        foreach (var leak in Internals)
        {
            Assert.DoesNotContain(leak, body, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task TheChatAndLiveChatApisAnswerTheirOwn500WithNothingInternal()
    {
        await using var node = await TestNode.StartOnSqliteAsync();
        await node.Database.ExecuteAsync("ALTER TABLE OrleansStorage RENAME TO OrleansStorage_gone");

        using var commercial = node.ClientFor(Roles.Commercial);
        using (var chat = await commercial.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid())))
        {
            var body = await chat.Content.ReadAsStringAsync();
            Assert.True(chat.StatusCode == HttpStatusCode.InternalServerError, $"{(int)chat.StatusCode} {body}");
            Assert.Equal("application/problem+json", chat.Content.Headers.ContentType?.MediaType);
            Assert.Equal(500, (int?)JsonNode.Parse(body)!["status"]);
            AssertNothingInternal(body);
        }

        using (var liveChat = await node.Client.PostLiveChatAsync("""{"name": "Budi", "city": "Solo", "country": "Indonesia"}"""))
        {
            var body = await liveChat.Content.ReadAsStringAsync();
            Assert.True(liveChat.StatusCode == HttpStatusCode.InternalServerError, $"{(int)liveChat.StatusCode} {body}");
            Assert.Equal(new JsonObject { ["message"] = "Terjadi kesalahan pada server." }.ToJsonString(), JsonNode.Parse(body)!.ToJsonString());
            Assert.False(liveChat.Headers.Contains("Set-Cookie"));
        }
    }
}
