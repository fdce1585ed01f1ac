using System.Net;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;

namespace ChatGrains.Tests.Conversations;

/// <summary>Who may connect to the hub, and that the token in its query string stays out of the logs.</summary>
public sealed class HubAuthTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private TestNode Node => fixture.Node;

    public static TheoryData<string> RefusedTokens => new()
    {
        "",
        "not-a-jwt",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    };

    [Theory]
    [MemberData(nameof(RefusedTokens))]
    public async Task NegotiationWithoutAValidTokenIs401(string token)
    {
        var query = token.Length == 0 ? "" : $"&access_token={Uri.EscapeDataString(token)}";
        using var response = await Node.Client.PostAsync(new Uri($"/hubs/livechat/negotiate?negotiateVersion=1{query}", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AnExpiredTokenAndOneFromAnotherKeyAre401()
    {
        var expired = Tokens.Create(Node, Roles.Commercial, expires: DateTime.UtcNow.AddMinutes(-5));
        using var foreignKey = System.Security.Cryptography.RSA.Create(2048);
        var foreign = Tokens.Create(Node, Roles.Commercial, credentials: new Microsoft.IdentityModel.Tokens.SigningCredentials(
            new Microsoft.IdentityModel.Tokens.RsaSecurityKey(foreignKey) { KeyId = "foreign" }, "RS256"));

        foreach (var token in new[] { expired, foreign })
        {
            using var response = await Node.Client.PostAsync(new Uri($"/hubs/livechat/negotiate?negotiateVersion=1&access_token={token}", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => HubClient.ConnectAsync(Node, expired, HttpTransportType.LongPolling));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task AConnectionIsClosedWhenItsTokenExpires()
    {
        var token = Tokens.Create(Node, Roles.Commercial, expires: DateTime.UtcNow.AddSeconds(5));
        await using var hub = await HubClient.ConnectAsync(Node, token);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.Connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        if (hub.Connection.State == HubConnectionState.Disconnected)
        {
            closed.TrySetResult();
        }

        await closed.Task.WaitAsync(HubClient.Patience);

        Assert.Equal(HubConnectionState.Disconnected, hub.Connection.State);
    }

    [Fact]
    public async Task AVisitorConnectsWithTheSessionTokenOfPostLivechatSession()
    {
        using var response = await Node.Client.PostAsync(new Uri("/livechat/session", UriKind.Relative),
            new StringContent("""{"name":"Budi","city":"Bandung","country":"Indonesia"}""", System.Text.Encoding.UTF8, "application/json"));
        var session = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var token = session.GetProperty("sessionToken").GetString()!;
        var userId = session.GetProperty("userId").GetGuid();
        var chatId = Guid.NewGuid();
        await Conversation.OpenChatAsync(Node, chatId, userId, Guid.NewGuid());

        await using var visitor = await HubClient.ConnectAsync(Node, token);
        var message = await visitor.SendAsync(chatId, "halo");

        Assert.Equal(HubConnectionState.Connected, visitor.Connection.State);
        Assert.Equal(userId, message.GetProperty("senderId").GetGuid());
    }

    [Fact]
    public async Task TheAuthorizationHeaderWorksAsWellAsTheQueryString()
    {
        var token = Node.Token(Roles.Commercial, Guid.NewGuid());
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Node.BaseAddress, "/hubs/livechat"), options =>
            {
                options.Headers["Authorization"] = $"Bearer {token}";
                options.Transports = HttpTransportType.LongPolling;
            })
            .Build();

        await connection.StartAsync();

        Assert.Equal(HubConnectionState.Connected, connection.State);
    }

    [Fact]
    public async Task TheAccessTokenInTheQueryStringReachesNoLogLine()
    {
        var capture = new LogCapture();
        await using var node = await TestNode.StartOnSqliteAsync(
            new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace", ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace", ["Logging:LogLevel:Orleans"] = "Warning" },
            builder =>
            {
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(capture);
            });
        var token = node.Token(Roles.Commercial, Guid.NewGuid());
        // Every transport puts the token in the query string (WebSockets, long polling, a failed attempt).
        await using (var hub = await HubClient.ConnectAsync(node, token))
        {
            await hub.RefusedAsync("AcceptChat", Guid.NewGuid().ToString());
        }
        await using (var polling = await HubClient.ConnectAsync(node, token, HttpTransportType.LongPolling))
        {
            Assert.Equal("CHAT_NOT_FOUND", await polling.RefusedAsync("JoinChat", Guid.NewGuid().ToString(), 0L));
        }
        using (var forged = await node.Client.PostAsync(new Uri($"/hubs/livechat/negotiate?negotiateVersion=1&access_token={token}x", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        Assert.Contains(capture.Lines, line => line.Contains("/hubs/livechat", StringComparison.Ordinal));
        var signature = token[(token.LastIndexOf('.') + 1)..];
        Assert.DoesNotContain(capture.Lines, line => line.Contains(signature, StringComparison.Ordinal));
    }
}
