using System.Text.RegularExpressions;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>
/// <c>/livechat</c> shows one state at a time and enables a control only while it can work: no
/// start while nobody is on duty, no sending while disconnected; and a second tab of the same
/// browser finds the listener's open chat.
/// </summary>
[Trait("Category", "Browser")]
public sealed partial class LiveChatStatesPageTests(ChromiumFixture chromium, SqliteNodeFixture nobodyOnDuty, OnDutyNodeFixture onDuty)
    : IClassFixture<ChromiumFixture>, IClassFixture<SqliteNodeFixture>, IClassFixture<OnDutyNodeFixture>
{
    private const float Patience = 30_000;

    private static async Task<IPage> StartedAsync(IBrowserContext context, TestNode node, string name)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(node.BaseAddress, "/livechat").ToString());
        await page.FillAsync("#name", name);
        await page.FillAsync("#city", "Medan");
        await page.FillAsync("#country", "Indonesia");
        await page.ClickAsync("#start");
        await Assertions.Expect(page.Locator("#chat-status")).ToHaveAttributeAsync("data-status", "PENDING", new() { Timeout = Patience });
        await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("Terhubung.", new() { Timeout = Patience });
        return page;
    }

    [Fact]
    public async Task WithNobodyOnDutyThePageSaysSoAloneAndOffersNoStart()
    {
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "id-ID" });
        var page = await context.NewPageAsync();
        var errors = PageErrors.Of(page);

        await page.GotoAsync(new Uri(nobodyOnDuty.Node.BaseAddress, "/livechat").ToString());

        var status = page.Locator("#status");
        await Assertions.Expect(status).ToHaveTextAsync("Obrolan belum tersedia: belum ada penyiar yang bertugas. Silakan coba lagi nanti.", new() { Timeout = Patience });
        await Assertions.Expect(status).ToHaveClassAsync(Failed());
        await Assertions.Expect(page.Locator("#start")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("#chat")).ToBeHiddenAsync();
        Assert.Equal(0, await page.Locator(".ok:visible, .error:visible:not(:empty)").CountAsync());
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [Fact]
    public async Task WhileDisconnectedNeitherSendingNorEndingIsOffered()
    {
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "id-ID" });
        var cut = false;
        var sockets = new List<IWebSocketRoute>();
        await context.RouteWebSocketAsync(new Regex(@"/hubs/livechat\?"), socket =>
        {
            lock (sockets)
            {
                sockets.Add(socket);
                sockets.Add(socket.ConnectToServer());
            }
        });
        await context.RouteAsync(new Regex("/hubs/livechat/negotiate"), route => Volatile.Read(ref cut) ? route.AbortAsync() : route.ContinueAsync());
        var page = await StartedAsync(context, onDuty.Node, "Rina");
        await page.FillAsync("#text", "Halo");
        await Assertions.Expect(page.Locator("#send")).ToBeEnabledAsync();
        await Assertions.Expect(page.Locator("#end-chat")).ToBeEnabledAsync();

        Volatile.Write(ref cut, true);
        List<IWebSocketRoute> open;
        lock (sockets)
        {
            open = [.. sockets];
        }
        foreach (var socket in open)
        {
            await socket.CloseAsync(new() { Code = 4000, Reason = "cut by the test" });
        }

        await Assertions.Expect(page.Locator("#connection")).ToHaveAttributeAsync("data-state", "lost", new() { Timeout = Patience });
        await Assertions.Expect(page.Locator("#send")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("#end-chat")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("#text")).ToBeEnabledAsync();

        Volatile.Write(ref cut, false);
        await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("Terhubung.", new() { Timeout = Patience });
        await Assertions.Expect(page.Locator("#send")).ToBeEnabledAsync();
        await page.ClickAsync("#send");
        await Assertions.Expect(page.Locator("#messages li.message .text")).ToHaveTextAsync(["Halo"], new() { Timeout = Patience });
    }

    [Fact]
    public async Task ASecondTabFindsTheOpenChatAndBothShowItLive()
    {
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "id-ID" });
        var first = await StartedAsync(context, onDuty.Node, "Dewi");
        await first.FillAsync("#text", "Halo dari tab pertama");
        await first.PressAsync("#text", "Enter");
        await Assertions.Expect(first.Locator("#messages li.message .text")).ToHaveTextAsync(["Halo dari tab pertama"], new() { Timeout = Patience });

        var second = await context.NewPageAsync();
        var errors = PageErrors.Of(second);
        await second.GotoAsync(new Uri(onDuty.Node.BaseAddress, "/livechat").ToString());

        await Assertions.Expect(second.Locator("#chat")).ToBeVisibleAsync(new() { Timeout = Patience });
        await Assertions.Expect(second.Locator("#session-form")).ToBeHiddenAsync();
        await Assertions.Expect(second.Locator("#messages li.message .text")).ToHaveTextAsync(["Halo dari tab pertama"], new() { Timeout = Patience });
        await Assertions.Expect(second.Locator("#chat-status")).ToHaveAttributeAsync("data-status", "PENDING");

        // The commercial on duty accepts: both tabs are told; a message from one shows in the other.
        await using var agent = await Conversation.CommercialAsync(onDuty.Node, onDuty.CommercialId);
        var chatId = (await agent.NextAsync("chatOffered", offer => offer.GetProperty("visitorInfo").GetProperty("name").GetString() == "Dewi")).ChatId();
        await agent.AcceptAsync(chatId);
        foreach (var page in new[] { first, second })
        {
            await Assertions.Expect(page.Locator("#chat-status")).ToHaveAttributeAsync("data-status", "ACTIVE", new() { Timeout = Patience });
        }
        await second.FillAsync("#text", "Dan dari tab kedua");
        await second.PressAsync("#text", "Enter");
        await Assertions.Expect(first.Locator("#messages li.message .text")).ToHaveTextAsync(["Halo dari tab pertama", "Dan dari tab kedua"], new() { Timeout = Patience });
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    [GeneratedRegex(@"\bfailed\b")]
    private static partial Regex Failed();
}
