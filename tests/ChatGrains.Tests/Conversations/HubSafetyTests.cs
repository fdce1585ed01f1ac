using System.Net;
using System.Text;
using System.Text.Json;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.Options;

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

    [Fact]
    public async Task AClientThatSendsNothingAfterTheHandshakeIsClosedAfterTheClientTimeout()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["Hub:ClientTimeout"] = "00:00:02" });
        await using var silent = await RawHubSocket.ConnectAsync(node, node.Token(Roles.Visitor, Guid.NewGuid()));

        await silent.WaitUntilClosedAsync(HubClient.Patience);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:05")]
    public async Task ANonPositiveClientTimeoutStopsTheNodeAtStartNamingTheSetting(string timeout)
    {
        var exception = await Assert.ThrowsAnyAsync<OptionsValidationException>(() =>
            TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["Hub:ClientTimeout"] = timeout }));

        Assert.Contains("Hub:ClientTimeout", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMessageIsStoredAsSentAndReadBackAsSent()
    {
        var (visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, Guid.NewGuid());
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        await guest.SendAsync(chatId, "first");
        var text = FourThousandCharacters("你好 🙂 שלום <b>Halo</b> & 'ça' \"va\"\n");

        var sent = await guest.SendAsync(chatId, text);

        Assert.Equal(text, sent.GetProperty("text").GetString());
        // Its own row's text column: no JSON escaping, so it costs its UTF-8 size, readable with SQL.
        Assert.Equal([text], await Node.Database.StringsAsync($"SELECT text FROM chat_messages WHERE chat_id = '{chatId}' AND seq = 2"));
        await Node.CollectIdleGrainsAsync();
        var joined = await guest.JoinAsync(chatId, afterSeq: 1);
        Assert.Equal(text, Assert.Single(joined.GetProperty("messages").EnumerateArray()).GetProperty("text").GetString());
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

    /// <summary><paramref name="pattern"/> repeated to exactly 4,000 UTF-16 characters, no surrogate pair cut.</summary>
    private static string FourThousandCharacters(string pattern)
    {
        var text = new StringBuilder();
        while (text.Length + pattern.Length <= 4000)
        {
            text.Append(pattern);
        }
        return text.Append('x', 4000 - text.Length).ToString();
    }
}
