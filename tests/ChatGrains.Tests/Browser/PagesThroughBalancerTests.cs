using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Faults;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>
/// The pages as a user meets them in <c>deploy/cluster.sh</c>'s set-up: served by three nodes
/// through its nginx, their hub connections made with the client's default options (negotiation,
/// then a WebSocket), a listener on <c>/livechat</c> and an agent on <c>/agent</c> talk live.
/// </summary>
[Trait("Category", "Browser")]
public sealed class PagesThroughBalancerTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const float Patience = 30_000;

    private static ILocator Texts(IPage page) => page.Locator(".messages:visible li.message .text");

    /// <summary>The hub WebSockets the page opens, by URL.</summary>
    private static List<string> WebSocketsOf(IPage page)
    {
        var sockets = new List<string>();
        page.WebSocket += (_, socket) => sockets.Add(socket.Url);
        return sockets;
    }

    [Fact]
    public async Task AListenerAndAnAgentConnectThroughNginxAndChatLive()
    {
        var agentId = Guid.NewGuid();
        await using var cluster = await BalancedCluster.StartAsync(settings: new Dictionary<string, string?>
        {
            ["LiveChat:CommercialIds:0"] = agentId.ToString(),
        });
        var balancer = cluster.Address;

        await using var agentContext = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-GB" });
        var agent = await agentContext.NewPageAsync();
        var agentErrors = PageErrors.Of(agent);
        var agentSockets = WebSocketsOf(agent);
        await agent.GotoAsync(new Uri(balancer, "/agent").ToString());
        await agent.FillAsync("#token", TestKeys.IssueToken(Roles.Commercial, agentId));
        await agent.ClickAsync("#connect");
        await Assertions.Expect(agent.Locator("#connection")).ToHaveTextAsync("Connected", new() { Timeout = Patience });

        await using var listenerContext = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "id-ID" });
        var listener = await listenerContext.NewPageAsync();
        var listenerErrors = PageErrors.Of(listener);
        var listenerSockets = WebSocketsOf(listener);
        await listener.GotoAsync(new Uri(balancer, "/livechat").ToString());
        await listener.FillAsync("#name", "Budi Santoso");
        await listener.FillAsync("#city", "Surakarta");
        await listener.FillAsync("#country", "Indonesia");
        await listener.ClickAsync("#start");
        await Assertions.Expect(listener.Locator("#connection")).ToHaveTextAsync("Terhubung.", new() { Timeout = Patience });

        var offer = agent.Locator("#offers li.offer");
        await Assertions.Expect(offer).ToHaveCountAsync(1, new() { Timeout = Patience });
        await offer.Locator("button.accept").ClickAsync();
        await Assertions.Expect(listener.Locator("#chat-status")).ToHaveAttributeAsync("data-status", "ACTIVE", new() { Timeout = Patience });

        await listener.FillAsync("#text", "Halo! Boleh putar lagu Bengawan Solo?");
        await listener.PressAsync("#text", "Enter");
        await Assertions.Expect(Texts(agent)).ToHaveTextAsync(["Halo! Boleh putar lagu Bengawan Solo?"], new() { Timeout = Patience });
        await agent.FillAsync("#text", "Of course, Budi.");
        await agent.PressAsync("#text", "Enter");
        await Assertions.Expect(Texts(listener)).ToHaveTextAsync(["Halo! Boleh putar lagu Bengawan Solo?", "Of course, Budi."], new() { Timeout = Patience });

        // Negotiated, then a WebSocket through the balancer (the id in its query came from the negotiation).
        var hub = $"ws://{balancer.Authority}/hubs/livechat?id=";
        Assert.Contains(agentSockets, url => url.StartsWith(hub, StringComparison.Ordinal));
        Assert.Contains(listenerSockets, url => url.StartsWith(hub, StringComparison.Ordinal));
        Assert.True(agentErrors.Count == 0, string.Join("\n", agentErrors));
        Assert.True(listenerErrors.Count == 0, string.Join("\n", listenerErrors));
    }
}
