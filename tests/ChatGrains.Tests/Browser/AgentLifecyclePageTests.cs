using System.Net;
using System.Text;
using System.Text.Json;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>
/// <c>/agent</c> in a fresh browser context on one node of a two-node cluster, the visitors on
/// the other: the console shows what the commercial was doing (its active chat, its closed one),
/// closes a chat with its button (the visitor is told), and shows the visitor's rating.
/// </summary>
[Trait("Category", "Browser")]
public sealed class AgentLifecyclePageTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const float Patience = 30_000;

    [Fact]
    public async Task ANewTabShowsTheAgentsChatsClosesOneAndShowsItsRating()
    {
        await using var cluster = await NodeCluster.StartAsync(nodeCount: 2);
        var (visitorNode, agentNode) = (cluster.Nodes[0], cluster.Nodes[1]);
        var commercial = Guid.NewGuid();
        var (earlierVisitor, earlier) = (Guid.NewGuid(), Guid.NewGuid());
        var (visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(visitorNode, earlier, earlierVisitor, commercial);
        await Conversation.OpenChatAsync(visitorNode, chatId, visitor, commercial);
        await using (var hub = await Conversation.CommercialAsync(visitorNode, commercial))
        {
            await hub.AcceptAsync(earlier);
            await hub.AcceptAsync(chatId);
        }
        using var earlierClient = visitorNode.ClientFor(Roles.Visitor, earlierVisitor);
        Assert.Equal(HttpStatusCode.OK, (await earlierClient.PostAsync(new Uri($"/v2/chats/{earlier}/close", UriKind.Relative), null)).StatusCode);
        await using var guest = await Conversation.VisitorAsync(visitorNode, visitor);

        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-GB" });
        var page = await context.NewPageAsync();
        var errors = PageErrors.Of(page);
        await page.GotoAsync(new Uri(agentNode.BaseAddress, "/agent").ToString());
        await page.FillAsync("#token", agentNode.Token(Roles.Commercial, commercial, TimeSpan.FromMinutes(30)));
        await page.ClickAsync("#connect");

        // Nothing of this tab's own: the server's lists bring both chats back.
        var open = page.Locator("#chats li .chat-link");
        var closed = page.Locator("#closed-chats li .chat-link");
        await Assertions.Expect(open).ToHaveCountAsync(1, new() { Timeout = Patience });
        await Assertions.Expect(closed).ToHaveCountAsync(1, new() { Timeout = Patience });
        await Assertions.Expect(open).ToHaveAttributeAsync("data-chat-id", chatId.ToString());
        await Assertions.Expect(closed).ToHaveAttributeAsync("data-chat-id", earlier.ToString());

        await open.ClickAsync();
        await Assertions.Expect(page.Locator("#close-chat")).ToBeVisibleAsync();
        await page.ClickAsync("#close-chat");

        await Assertions.Expect(closed).ToHaveCountAsync(2, new() { Timeout = Patience });
        await Assertions.Expect(open).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#no-chats")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#send")).ToBeDisabledAsync();
        await Assertions.Expect(page.Locator("#close-chat")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#rating")).ToHaveTextAsync("Closed (commercial)");
        var told = await guest.NextAsync("chatClosed");
        Assert.Equal(("COMMERCIAL", commercial.ToString()), (told.GetProperty("closeReason").GetString(), told.GetProperty("closedBy").GetProperty("id").GetString()));

        using var visitorClient = visitorNode.ClientFor(Roles.Visitor, visitor);
        using var rated = await visitorClient.PostAsync(new Uri($"/v2/chats/{chatId}/rating", UriKind.Relative),
            new StringContent("""{"rating":4,"comment":"<b>mantap</b>"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, rated.StatusCode);
        await Assertions.Expect(page.Locator("#rating")).ToHaveTextAsync("Rated 4/5: “<b>mantap</b>”", new() { Timeout = Patience });
        Assert.Equal(0, await page.Locator("#rating b").CountAsync());
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }
}
