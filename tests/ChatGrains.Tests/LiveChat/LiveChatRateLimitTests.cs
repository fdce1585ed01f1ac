using ChatGrains.Grains;
using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.LiveChat;

public sealed class LiveChatRateLimitTests
{
    [Fact]
    public async Task PastTheLimitTheEndpointAnswers429InItsOwnFormatWithoutTouchingTheGuestSessionCount()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["RateLimiting:PermitsPerMinute"] = "2" });
        for (var i = 0; i < 2; i++)
        {
            using var admitted = await node.Client.PostLiveChatAsync(LiveChatRequests.Budi());
            Assert.Equal(HttpStatusCode.Created, admitted.StatusCode);
            Assert.Equal("\"per-client\";q=2;w=60", admitted.Headers.GetValues("RateLimit-Policy").Single());
        }

        using var refused = await node.Client.PostLiveChatAsync(LiveChatRequests.Budi());
        using var otherEndpoint = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() });

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.StartsWith("\"per-client\";r=0;", refused.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);
        Assert.Equal("Terlalu banyak permintaan; coba lagi nanti.", (string?)(await refused.BodyAsync())["message"]);
        Assert.False(refused.Headers.Contains("Set-Cookie"));
        Assert.Equal(2, await node.Database.GrainRecordsAsync(GrainStorage.LiveChatSession));
        Assert.Equal(HttpStatusCode.Created, otherEndpoint.StatusCode);
    }
}
