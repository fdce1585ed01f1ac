using System.Text.Json;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Faults;
using ChatGrains.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;

namespace ChatGrains.Tests.Deploy;

/// <summary>Three node processes on PostgreSQL behind real nginx, with one of deploy/'s two balancer configurations.</summary>
public abstract class BalancerFixture(bool compose) : IAsyncLifetime
{
    public BalancedCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await BalancedCluster.StartAsync(new BalancerOptions(Compose: compose));

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

public sealed class LocalBalancerFixture() : BalancerFixture(compose: false);

public sealed class ComposeBalancerFixture() : BalancerFixture(compose: true);

/// <summary>
/// The hub through the balancer with the official .NET client as a user's code creates it: its
/// negotiation reaches one node, and the connection that follows (one WebSocket, or every
/// Server-Sent Events and long-polling request) must reach the same one, which alone knows its id.
/// </summary>
[Trait("Category", "Deploy")]
public abstract class HubThroughBalancerTests(BalancerFixture fixture)
{
    /// <summary>Enough conversations that a balancer spreading one connection's requests over three nodes cannot pass by luck.</summary>
    private const int Conversations = 4;

    private BalancedCluster Cluster => fixture.Cluster;

    [Theory]
    [InlineData(null)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    [InlineData(HttpTransportType.LongPolling)]
    public async Task EveryConnectionSucceedsJoinsAndWritesBothWays(HttpTransportType? transports)
    {
        for (var i = 0; i < Conversations; i++)
        {
            var (visitor, commercial) = (Guid.NewGuid(), Guid.NewGuid());
            var visitorToken = TestKeys.IssueToken(Roles.Visitor, visitor);
            await using var agent = await HubClient.ConnectAsync(Cluster.Address, TestKeys.IssueToken(Roles.Commercial, commercial), transports);
            var chatId = (await Cluster.CreateChatAsync(Cluster.Address, commercial, visitor))["id"]!.GetValue<Guid>();
            Assert.Equal(chatId, (await agent.NextAsync("chatOffered")).ChatId());
            await agent.AcceptAsync(chatId);

            await using var guest = await HubClient.ConnectAsync(Cluster.Address, visitorToken, transports);
            var joined = await guest.JoinAsync(chatId);
            Assert.Empty(joined.GetProperty("messages").EnumerateArray());
            var halo = $"Halo {i}";
            await guest.SendAsync(chatId, halo);
            await agent.NextAsync("message", Text(halo));
            var hello = $"Hello {i}";
            await agent.SendAsync(chatId, hello);
            await guest.NextAsync("message", Text(hello));
        }
    }

    private static Func<JsonElement, bool> Text(string text) => message => message.GetProperty("text").GetString() == text;
}

/// <summary>deploy/nginx-local.conf.template, as <c>deploy/cluster.sh</c> and the fault tests run it.</summary>
public sealed class HubThroughLocalBalancerTests(LocalBalancerFixture fixture)
    : HubThroughBalancerTests(fixture), IClassFixture<LocalBalancerFixture>;

/// <summary>deploy/nginx.conf, the containers' balancer, with its node names pointed at loopback nodes.</summary>
public sealed class HubThroughComposeBalancerTests(ComposeBalancerFixture fixture)
    : HubThroughBalancerTests(fixture), IClassFixture<ComposeBalancerFixture>;
