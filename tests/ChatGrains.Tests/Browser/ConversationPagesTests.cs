using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Infrastructure;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>
/// A listener on <c>/livechat</c> of one node and an agent on <c>/agent</c> of another, each in
/// its own browser context, in a three-node cluster on PostgreSQL: the chat is offered, accepted
/// and talked through live both ways, also after the third node leaves (both pages catch up on
/// its <c>resync</c>), and markup in a message stays text.
/// </summary>
[Trait("Category", "Browser")]
public sealed class ConversationPagesTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    /// <summary>Playwright's default is 5 s; two nodes and two browsers on a busy CI machine get more.</summary>
    private const float Patience = 30_000;

    private const string Markup = "<img src=x onerror=\"window.__pwned=1\">";

    private static string ScreenshotPath()
    {
        if (Environment.GetEnvironmentVariable(DashboardPageTests.RefreshScreenshots) == "1")
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ChatGrains.sln")))
            {
                directory = directory.Parent;
            }
            return Path.Combine(directory?.FullName ?? throw new InvalidOperationException("ChatGrains.sln not found above the test binaries."), "docs", "conversation.png");
        }
        return Path.Combine(Path.GetTempPath(), $"chatgrains-conversation-{Guid.NewGuid():N}.png");
    }

    private static ILocator Texts(IPage page) => page.Locator(".messages:visible li.message .text");

    /// <summary>The hub methods a page invokes, in order, as its WebSocket frames show them.</summary>
    private static Channel<string> InvocationsOf(IPage page)
    {
        var invocations = Channel.CreateUnbounded<string>();
        page.WebSocket += (_, socket) => socket.FrameSent += (_, frame) =>
        {
            // JSON hub protocol: records end with 0x1E; an invocation is {"type":1,"target":…}.
            foreach (var record in (frame.Text ?? "").Split('\u001e', StringSplitOptions.RemoveEmptyEntries))
            {
                using var json = JsonDocument.Parse(record);
                if (json.RootElement.TryGetProperty("target", out var target))
                {
                    invocations.Writer.TryWrite(target.GetString()!);
                }
            }
        };
        return invocations;
    }

    private static async Task NextInvocationOfAsync(Channel<string> invocations, string method)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromMilliseconds(Patience));
        try
        {
            while (await invocations.Reader.ReadAsync(patience.Token) != method)
            {
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The page invoked no {method} within {Patience / 1000} s.");
        }
    }

    private static void Drain(Channel<string> invocations)
    {
        while (invocations.Reader.TryRead(out _))
        {
        }
    }

    [Fact]
    public async Task AListenerAndAnAgentOnDifferentNodesChatLiveBothWaysAndMarkupInAMessageIsShownAsText()
    {
        var (agentId, rivalId) = (Guid.NewGuid(), Guid.NewGuid());
        await using var cluster = await NodeCluster.StartAsync(nodeCount: 3, settings: new Dictionary<string, string?>
        {
            ["LiveChat:CommercialIds:0"] = agentId.ToString(),
            ["LiveChat:CommercialIds:1"] = rivalId.ToString(),
        });
        var (listenerNode, agentNode, leaving) = (cluster.Nodes[0], cluster.Nodes[1], cluster.Nodes[2]);

        await using var agentContext = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            Locale = "en-GB",
            ViewportSize = new ViewportSize { Width = 1100, Height = 860 },
        });
        var agent = await agentContext.NewPageAsync();
        var agentErrors = PageErrors.Of(agent);
        var agentInvocations = InvocationsOf(agent);
        await SignInAsync(agent, agentNode, agentId);
        // Another commercial the chat is offered to, on the listener's node, in a context of its own.
        await using var rivalContext = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-GB" });
        var rival = await rivalContext.NewPageAsync();
        var rivalErrors = PageErrors.Of(rival);
        await SignInAsync(rival, listenerNode, rivalId);

        await using var listenerContext = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            Locale = "id-ID",
            ViewportSize = new ViewportSize { Width = 620, Height = 860 },
        });
        var listener = await listenerContext.NewPageAsync();
        var listenerErrors = PageErrors.Of(listener);
        var listenerInvocations = InvocationsOf(listener);
        await listener.GotoAsync(new Uri(listenerNode.BaseAddress, "/livechat").ToString());
        await listener.FillAsync("#name", "Budi Santoso");
        await listener.FillAsync("#city", "Surakarta");
        await listener.FillAsync("#country", "Indonesia");
        await listener.ClickAsync("#start");

        var status = listener.Locator("#chat-status");
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "PENDING", new() { Timeout = Patience });
        await Assertions.Expect(status).ToContainTextAsync("Menunggu");
        await Assertions.Expect(listener.Locator("#connection")).ToHaveTextAsync("Terhubung.", new() { Timeout = Patience });

        // The offer appears live on both commercials' pages; the first accept takes it from both.
        var offer = agent.Locator("#offers li.offer");
        var rivalOffer = rival.Locator("#offers li.offer");
        await Assertions.Expect(offer).ToHaveCountAsync(1, new() { Timeout = Patience });
        await Assertions.Expect(rivalOffer).ToHaveCountAsync(1, new() { Timeout = Patience });
        await Assertions.Expect(offer.Locator(".visitor")).ToHaveTextAsync("Budi Santoso");
        await Assertions.Expect(offer.Locator(".detail")).ToContainTextAsync("Surakarta, Indonesia");
        await offer.Locator("button.accept").ClickAsync();
        await Assertions.Expect(offer).ToHaveCountAsync(0, new() { Timeout = Patience });
        await Assertions.Expect(rivalOffer).ToHaveCountAsync(0, new() { Timeout = Patience });
        await Assertions.Expect(rival.Locator("#no-offers")).ToBeVisibleAsync();
        Assert.Equal(0, await rival.Locator("#chats li").CountAsync());
        await Assertions.Expect(agent.Locator("#conversation-title")).ToHaveTextAsync("Budi Santoso");
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "ACTIVE", new() { Timeout = Patience });
        await Assertions.Expect(status).ToContainTextAsync("Diterima");

        // Listener → agent with Enter, agent → listener with the button, then markup both ways.
        await listener.FillAsync("#text", "Halo! Boleh putar lagu Bengawan Solo?");
        await listener.PressAsync("#text", "Enter");
        await Assertions.Expect(Texts(agent)).ToHaveTextAsync(["Halo! Boleh putar lagu Bengawan Solo?"], new() { Timeout = Patience });
        await agent.FillAsync("#text", "Of course, Budi.\nIt is next after the news.");
        await agent.ClickAsync("#send");
        await Assertions.Expect(Texts(listener)).ToHaveCountAsync(2, new() { Timeout = Patience });

        // A silo leaves: both pages are told to resync and fetch what they may have missed.
        Drain(listenerInvocations);
        Drain(agentInvocations);
        await leaving.StopAsync();
        await Task.WhenAll(NextInvocationOfAsync(listenerInvocations, "JoinChat"), NextInvocationOfAsync(agentInvocations, "JoinChat"));

        await agent.FillAsync("#text", Markup);
        await agent.PressAsync("#text", "Enter");
        // Delivered after the leave; and waited for, so that the next message is seq 4.
        await Assertions.Expect(Texts(listener)).ToHaveCountAsync(3, new() { Timeout = Patience });
        await listener.FillAsync("#text", "<script>window.__pwned=2</script><b>terima kasih</b>");
        await listener.ClickAsync("#send");

        string[] conversation =
        [
            "Halo! Boleh putar lagu Bengawan Solo?",
            "Of course, Budi.\nIt is next after the news.",
            Markup,
            "<script>window.__pwned=2</script><b>terima kasih</b>",
        ];
        foreach (var page in new[] { listener, agent })
        {
            // Each message once (the send's result and the live event are one seq), in order.
            await Assertions.Expect(Texts(page)).ToHaveTextAsync(conversation, new() { Timeout = Patience });
            Assert.Equal(["1", "2", "3", "4"], await page.Locator(".messages:visible li.message").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.seq)"));
            Assert.Null(await page.EvaluateAsync<int?>("window.__pwned ?? null"));
            Assert.Equal(0, await page.Locator(".messages img, .messages script, .messages b").CountAsync());
        }
        Assert.Equal(["Anda", "Penyiar", "Penyiar", "Anda"], await listener.Locator(".messages li .who").AllTextContentsAsync());
        Assert.Equal(["Budi Santoso", "You", "You", "Budi Santoso"], await agent.Locator(".messages:visible li .who").AllTextContentsAsync());
        // The open chat is marked read as the listener's messages arrive.
        await Assertions.Expect(agent.Locator("#read-state")).ToHaveTextAsync("All messages read", new() { Timeout = Patience });

        var screenshot = ScreenshotPath();
        await SideBySideAsync(agentContext, screenshot, await listener.ScreenshotAsync(), await agent.ScreenshotAsync());
        Assert.True(new FileInfo(screenshot).Length > 10_000, screenshot);
        if (Environment.GetEnvironmentVariable(DashboardPageTests.RefreshScreenshots) != "1")
        {
            File.Delete(screenshot);
        }

        // A reload in the same tab resumes the chat from JoinChat: the same four messages, once each.
        await listener.ReloadAsync();
        await Assertions.Expect(Texts(listener)).ToHaveTextAsync(conversation, new() { Timeout = Patience });
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "ACTIVE", new() { Timeout = Patience });
        await listener.FillAsync("#text", "Saya masih di sini.");
        await listener.PressAsync("#text", "Enter");
        await Assertions.Expect(Texts(agent)).ToHaveTextAsync([.. conversation, "Saya masih di sini."], new() { Timeout = Patience });

        Assert.True(listenerErrors.Count == 0, string.Join("\n", listenerErrors));
        Assert.True(agentErrors.Count == 0, string.Join("\n", agentErrors));
        Assert.True(rivalErrors.Count == 0, string.Join("\n", rivalErrors));
    }

    private static async Task SignInAsync(IPage page, TestNode node, Guid commercialId)
    {
        await page.GotoAsync(new Uri(node.BaseAddress, "/agent").ToString());
        await page.FillAsync("#token", node.Token(Roles.Commercial, commercialId, TimeSpan.FromMinutes(30)));
        await page.ClickAsync("#connect");
        await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("Connected", new() { Timeout = Patience });
        await Assertions.Expect(page.Locator("#identity")).ToHaveTextAsync($"Commercial {commercialId}");
        Assert.Equal(0, await page.Locator("#offers li").CountAsync());
    }

    /// <summary>The two pages next to each other in one picture (a blank page of its own, no policy involved).</summary>
    private static async Task SideBySideAsync(IBrowserContext context, string path, byte[] left, byte[] right)
    {
        var page = await context.NewPageAsync();
        await page.SetContentAsync(
            "<body style=\"margin:0;display:flex;align-items:flex-start;background:#d1d5db\">" +
            $"<img alt=\"\" src=\"data:image/png;base64,{Convert.ToBase64String(left)}\" style=\"border-right:4px solid #9ca3af\">" +
            $"<img alt=\"\" src=\"data:image/png;base64,{Convert.ToBase64String(right)}\"></body>");
        await page.WaitForFunctionAsync("[...document.images].every(i => i.complete && i.naturalWidth > 0)");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        await page.CloseAsync();
    }
}
