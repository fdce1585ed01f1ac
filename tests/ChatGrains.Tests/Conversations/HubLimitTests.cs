using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;

namespace ChatGrains.Tests.Conversations;

/// <summary>A node with the hub's pending and connection limits as shipped (test nodes lift every limit).</summary>
public sealed class HubLimitsNodeFixture : IAsyncLifetime
{
    public TestNode Node { get; private set; } = null!;

    // null: the key unset, so the node runs the default.
    public async Task InitializeAsync() => Node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
    {
        ["Hub:MaxMessagesWhilePending"] = null,
        ["Hub:MaxConnectionsPerUser"] = null,
    });

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>What one token subject may do on the hub: messages per second, messages before an agent, connections.</summary>
public sealed partial class HubLimitTests(HubLimitsNodeFixture fixture) : IClassFixture<HubLimitsNodeFixture>
{
    private const int MaxConnections = 10;

    private TestNode Node => fixture.Node;

    [Fact]
    public async Task TheEleventhMessageOfABurstIsRefusedRateLimitedWithTheRetryTimeAndNotStored()
    {
        // The burst as shipped (10); a refill slow enough that the test's own pace never earns a token.
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
        {
            ["Hub:MessagesPerSecond"] = "0.01",
            ["Hub:MessageBurst"] = null,
        });
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(node, chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(node, commercial);
        await using var phone = await Conversation.VisitorAsync(node, visitor);
        await using var laptop = await Conversation.VisitorAsync(node, visitor);
        await agent.AcceptAsync(chatId);
        for (var i = 1; i <= 10; i++)
        {
            await (i % 2 == 1 ? phone : laptop).SendAsync(chatId, $"pesan {i}");
        }

        // The sender's limit, whichever of its connections it writes from.
        var refused = await Assert.ThrowsAsync<HubException>(() => phone.SendAsync(chatId, "pesan 11"));
        var refusedElsewhere = await Assert.ThrowsAsync<HubException>(() => laptop.SendAsync(chatId, "pesan 11"));

        foreach (var error in new[] { refused, refusedElsewhere })
        {
            var match = RateLimited().Match(error.Message);
            Assert.True(match.Success, error.Message);
            // 1 token at 0.01 a second: about 100 s.
            Assert.InRange(long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 90_000, 100_000);
        }
        // Another sender is not limited by this one.
        var reply = await agent.SendAsync(chatId, "balasan");
        var joined = await agent.JoinAsync(chatId);
        var texts = joined.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList();
        Assert.Equal([.. Enumerable.Range(1, 10).Select(i => $"pesan {i}"), "balasan"], texts);
        Assert.Equal(11, reply.Seq());
    }

    [Fact]
    public async Task TheTwentyFirstVisitorMessageOfAPendingChatIsRefusedUntilAnAgentAccepts()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        var firstId = Guid.NewGuid();
        await guest.SendAsync(chatId, "pesan 1", firstId);
        for (var i = 2; i <= 20; i++)
        {
            await guest.SendAsync(chatId, $"pesan {i}");
        }

        var refused = await Assert.ThrowsAsync<HubException>(() => guest.SendAsync(chatId, "pesan 21"));

        Assert.Contains("HubException: AWAITING_AGENT: ", refused.Message, StringComparison.Ordinal);
        var pending = await guest.JoinAsync(chatId);
        Assert.Equal("PENDING", pending.GetProperty("chat").GetProperty("status").GetString());
        Assert.Equal(20, pending.GetProperty("chat").GetProperty("totalMessages").GetInt32());
        Assert.DoesNotContain(pending.GetProperty("messages").EnumerateArray(), m => m.GetProperty("text").GetString() == "pesan 21");
        // A resend of a stored message is still answered: it stores nothing.
        Assert.Equal(1, (await guest.SendAsync(chatId, "pesan 1", firstId)).Seq());

        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await agent.AcceptAsync(chatId);

        Assert.Equal(21, (await guest.SendAsync(chatId, "pesan 21")).Seq());
        Assert.Equal(22, (await agent.SendAsync(chatId, "maaf menunggu")).Seq());
    }

    [Theory]
    [InlineData(Roles.Visitor)]
    [InlineData(Roles.Commercial)]
    [InlineData(Roles.Admin)]
    public async Task TheEleventhConnectionOfASubjectIsRefused429UntilOneCloses(string role)
    {
        var token = Node.Token(role, Guid.NewGuid());
        var open = new List<HubClient>();
        try
        {
            for (var i = 0; i < MaxConnections; i++)
            {
                open.Add(await HubClient.ConnectAsync(Node, token, i % 2 == 0 ? HttpTransportType.WebSockets : HttpTransportType.LongPolling));
            }

            using var negotiation = await NegotiateAsync(token);
            Assert.Equal(HttpStatusCode.TooManyRequests, negotiation.StatusCode);
            Assert.Equal("application/problem+json", negotiation.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(await negotiation.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(429, problem.GetProperty("status").GetInt32());
            Assert.Equal("Too many connections for this token; close one before opening another.", problem.GetProperty("title").GetString());
            // Without negotiating: the WebSocket request itself is refused, through the SignalR client and raw.
            Assert.Equal(HttpStatusCode.TooManyRequests, await RawWebSocketStatusAsync(token));
            var throughClient = await Assert.ThrowsAsync<HttpRequestException>(() => HubClient.ConnectAsync(Node, token, HttpTransportType.LongPolling));
            Assert.Equal(HttpStatusCode.TooManyRequests, throughClient.StatusCode);
            // Another subject is not limited by this one.
            await using (await HubClient.ConnectAsync(Node, Node.Token(role, Guid.NewGuid()))) { }

            await open[0].DisposeAsync();
            open.RemoveAt(0);
            await WaitUntilNegotiationAdmitsAsync(token);

            open.Add(await HubClient.ConnectAsync(Node, token));
            Assert.Equal(HttpStatusCode.TooManyRequests, await RawWebSocketStatusAsync(token));
        }
        finally
        {
            await Task.WhenAll(open.Select(hub => hub.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task ConnectionsRacedPastNegotiationStillStopAtTheLimit()
    {
        var token = Node.Token(Roles.Commercial, Guid.NewGuid());
        // All at once: each may find room when it asks, so the count at connect decides.
        var attempts = Enumerable.Range(0, MaxConnections + 5).Select(async _ =>
        {
            try
            {
                return await HubClient.ConnectAsync(Node, token);
            }
            catch (Exception)
            {
                // Refused at the WebSocket request (429), or closed by the hub at connect: not connected either way.
                return null;
            }
        }).ToList();
        var clients = await Task.WhenAll(attempts);
        try
        {
            Assert.Equal(MaxConnections, clients.Count(client => client is not null));
        }
        finally
        {
            await Task.WhenAll(clients.OfType<HubClient>().Select(hub => hub.DisposeAsync().AsTask()));
        }
    }

    private Task<HttpResponseMessage> NegotiateAsync(string token) =>
        Node.Client.PostAsync(new Uri($"/hubs/livechat/negotiate?negotiateVersion=1&access_token={token}", UriKind.Relative), null);

    private async Task<HttpStatusCode> RawWebSocketStatusAsync(string token)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var uri = new UriBuilder(new Uri(Node.BaseAddress, "/hubs/livechat")) { Scheme = "ws", Query = $"access_token={token}" }.Uri;
        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None);
        }
        catch (WebSocketException)
        {
        }
        return socket.HttpStatusCode;
    }

    /// <summary>A closed connection frees its slot once the node has seen it close (the client does not wait for that).</summary>
    private async Task WaitUntilNegotiationAdmitsAsync(string token)
    {
        var deadline = DateTime.UtcNow + HubClient.Patience;
        while (true)
        {
            using var negotiation = await NegotiateAsync(token);
            if (negotiation.StatusCode == HttpStatusCode.OK)
            {
                return;
            }
            Assert.Equal(HttpStatusCode.TooManyRequests, negotiation.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, "the closed connection's slot was never freed");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"HubException: RATE_LIMITED: Too many messages from this sender; retry after (\d+) ms\.")]
    private static partial Regex RateLimited();
}
