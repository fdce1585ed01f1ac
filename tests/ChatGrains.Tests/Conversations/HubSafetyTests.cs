using System.Net;
using System.Text;
using System.Text.Json;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Conversations;

/// <summary>Hub calls and connections that tried to exhaust a node: raw frames, silent clients, costly text.</summary>
public sealed class HubSafetyTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private TestNode Node => fixture.Node;

    [Theory]
    [InlineData("-1")]
    [InlineData("4")]
    [InlineData("1.5")]
    [InlineData("1e2")]
    [InlineData("\"2\"")]
    [InlineData("null")]
    [InlineData("18446744073709551616")]
    public async Task JoinChatRefusesAnAfterSeqThatIsNotAWholeNumberWithinTheChat(string afterSeq)
    {
        var (visitor, chatId) = await ChatWithThreeMessagesAsync();
        await using var raw = await RawHubSocket.ConnectAsync(Node, Node.Token(Roles.Visitor, visitor));

        Assert.Equal("VALIDATION_FAILED", await raw.RefusedAsync("JoinChat", $"\"{chatId}\",{afterSeq}"));
        await AssertStillAnswersAsync(raw, chatId);
    }

    [Fact]
    public async Task TheLargestAndSmallestLongsAreRefusedBeforeAnyHistoryIsReadAndTheNodeStaysUp()
    {
        var (visitor, chatId) = await ChatWithThreeMessagesAsync();
        await using var owner = await RawHubSocket.ConnectAsync(Node, Node.Token(Roles.Visitor, visitor));
        await using var stranger = await RawHubSocket.ConnectAsync(Node, Node.Token(Roles.Visitor, Guid.NewGuid()));

        Assert.Equal("VALIDATION_FAILED", await owner.RefusedAsync("JoinChat", $"\"{chatId}\",{long.MinValue}"));
        // long.MaxValue + 1 overflowed into hundreds of millions of page reads in one grain turn.
        Assert.Equal("VALIDATION_FAILED", await owner.RefusedAsync("JoinChat", $"\"{chatId}\",{long.MaxValue}"));
        // Who may read comes before the range: a stranger learns nothing of the chat's length.
        Assert.Equal("NOT_A_PARTICIPANT", await stranger.RefusedAsync("JoinChat", $"\"{chatId}\",{long.MaxValue}"));
        Assert.Equal("NOT_A_PARTICIPANT", await stranger.RefusedAsync("JoinChat", $"\"{chatId}\",1"));
        await AssertStillAnswersAsync(owner, chatId);
    }

    [Theory]
    [InlineData("می\u200Cخواهم")]
    [InlineData("क्\u200Dष")]
    [InlineData("👩\u200D💻 on it")]
    public async Task AJoinerInsideAWordIsText(string text)
    {
        var (visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, Guid.NewGuid());
        await using var guest = await Conversation.VisitorAsync(Node, visitor);

        Assert.Equal(text, (await guest.SendAsync(chatId, text)).GetProperty("text").GetString());
    }

    private async Task<(Guid Visitor, Guid ChatId)> ChatWithThreeMessagesAsync()
    {
        var (visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, Guid.NewGuid());
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        for (var i = 1; i <= 3; i++)
        {
            await guest.SendAsync(chatId, $"pesan {i}");
        }
        return (visitor, chatId);
    }

    /// <summary>The same connection gets an answer to a good call, and the node to an HTTP request.</summary>
    private async Task AssertStillAnswersAsync(RawHubSocket raw, Guid chatId)
    {
        var completion = await raw.InvokeAsync("JoinChat", $"\"{chatId}\",0");
        Assert.False(completion.TryGetProperty("error", out var error), error.ToString());
        Assert.Equal(3, completion.GetProperty("result").GetProperty("messages").GetArrayLength());
        using var live = await Node.Client.GetAsync(new Uri("/health/live", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
