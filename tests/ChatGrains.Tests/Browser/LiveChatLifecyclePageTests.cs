using System.Text.Json;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>
/// <c>/livechat</c> on one node of a two-node cluster, the commercial on the other: the listener
/// sees who closed the chat (in Indonesian), rates it, reopens it, and ends it itself.
/// </summary>
[Trait("Category", "Browser")]
public sealed class LiveChatLifecyclePageTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const float Patience = 30_000;

    [Fact]
    public async Task TheListenerSeesTheCloseRatesReopensAndEndsTheChat()
    {
        var commercial = Guid.NewGuid();
        await using var cluster = await NodeCluster.StartAsync(nodeCount: 2, settings: new Dictionary<string, string?>
        {
            ["LiveChat:CommercialIds:0"] = commercial.ToString(),
        });
        var (listenerNode, agentNode) = (cluster.Nodes[0], cluster.Nodes[1]);
        await using var agent = await Conversation.CommercialAsync(agentNode, commercial);

        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "id-ID" });
        var page = await context.NewPageAsync();
        var errors = PageErrors.Of(page);
        await page.GotoAsync(new Uri(listenerNode.BaseAddress, "/livechat").ToString());
        await page.FillAsync("#name", "Sari");
        await page.FillAsync("#city", "Bandung");
        await page.FillAsync("#country", "Indonesia");
        await page.ClickAsync("#start");
        var status = page.Locator("#chat-status");
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "PENDING", new() { Timeout = Patience });
        await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("Terhubung.", new() { Timeout = Patience });
        var chatId = (await agent.NextAsync("chatOffered")).ChatId();
        await agent.AcceptAsync(chatId);
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "ACTIVE", new() { Timeout = Patience });
        await Assertions.Expect(page.Locator("#ended")).ToBeHiddenAsync();

        await agent.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), null);

        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "CLOSED", new() { Timeout = Patience });
        await Assertions.Expect(page.Locator("#closed-by")).ToHaveTextAsync("Obrolan ditutup oleh penyiar.");
        await Assertions.Expect(page.Locator("#send")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("#text")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("#end-chat")).ToBeHiddenAsync();

        await page.ClickAsync("label[for=star-4]");
        await page.FillAsync("#comment", "Lagunya <b>bagus</b>");
        await page.ClickAsync("#rate");
        await Assertions.Expect(page.Locator("#rated")).ToHaveTextAsync("Terima kasih atas penilaian Anda (4/5).", new() { Timeout = Patience });
        await Assertions.Expect(page.Locator("#rating-form")).ToBeHiddenAsync();
        var rated = await agent.NextAsync("chatRated");
        Assert.Equal((4, "Lagunya <b>bagus</b>"), (rated.GetProperty("rating").GetProperty("rating").GetInt32(), rated.GetProperty("rating").GetProperty("comment").GetString()));

        await page.ClickAsync("#reopen");
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "PENDING", new() { Timeout = Patience });
        await Assertions.Expect(page.Locator("#ended")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#send")).ToBeEnabledAsync();
        Assert.Equal(chatId, (await agent.NextAsync("chatOffered", offer => offer.ChatId() == chatId)).ChatId());

        await page.ClickAsync("#end-chat");
        await Assertions.Expect(page.Locator("#closed-by")).ToHaveTextAsync("Obrolan ditutup oleh Anda.", new() { Timeout = Patience });
        await Assertions.Expect(page.Locator("#rating-form")).ToBeVisibleAsync();
        Assert.Equal(chatId, (await agent.NextAsync("chatWithdrawn")).ChatId());
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}
