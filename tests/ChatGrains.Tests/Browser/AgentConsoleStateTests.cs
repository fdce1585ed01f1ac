using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>
/// <c>/agent</c> shows what the server holds: the console only once signed in, each chat's unread
/// count as the server counts it in any new tab or browser, and after a reload the conversation
/// that was open.
/// </summary>
[Trait("Category", "Browser")]
public sealed class AgentConsoleStateTests(ChromiumFixture chromium, SqliteNodeFixture fixture) : IClassFixture<ChromiumFixture>, IClassFixture<SqliteNodeFixture>
{
    private const float Patience = 30_000;

    private TestNode Node => fixture.Node;

    private async Task<IPage> SignedInAsync(IBrowserContext context, Guid commercial)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(Node.BaseAddress, "/agent").ToString());
        await page.FillAsync("#token", Node.Token(Roles.Commercial, commercial, TimeSpan.FromMinutes(30)));
        await page.ClickAsync("#connect");
        await Assertions.Expect(page.Locator("#connection")).ToHaveTextAsync("Connected", new() { Timeout = Patience });
        return page;
    }

    private static ILocator Unread(IPage page, Guid chatId) => page.Locator($"#chats .chat-link[data-chat-id='{chatId}'] .unread");

    [Fact]
    public async Task BeforeSignInAndAfterSignOutOnlyTheSignInFormShows()
    {
        await using var context = await chromium.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(Node.BaseAddress, "/agent").ToString());

        await Assertions.Expect(page.Locator("#sign-in")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#sign-out")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#offers-title")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#chats-title")).ToBeHiddenAsync();

        await page.CloseAsync();
        var signedIn = await SignedInAsync(context, Guid.NewGuid());
        await Assertions.Expect(signedIn.Locator("#sign-out")).ToBeVisibleAsync();
        await Assertions.Expect(signedIn.Locator("#offers-title")).ToBeVisibleAsync();
        await signedIn.ClickAsync("#sign-out");

        await Assertions.Expect(signedIn.Locator("#sign-in")).ToBeVisibleAsync(new() { Timeout = Patience });
        await Assertions.Expect(signedIn.Locator("#sign-out")).ToBeHiddenAsync();
        await Assertions.Expect(signedIn.Locator("#offers-title")).ToBeHiddenAsync();
        await Assertions.Expect(signedIn.Locator("#chats-title")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task EveryNewBrowserShowsTheServersUnreadCountsAndAReloadReopensTheOpenConversation()
    {
        var commercial = Guid.NewGuid();
        var (unreadVisitor, unread) = (Guid.NewGuid(), Guid.NewGuid());
        var (readVisitor, read) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, unread, unreadVisitor, commercial);
        await Conversation.OpenChatAsync(Node, read, readVisitor, commercial);
        await using (var agent = await Conversation.CommercialAsync(Node, commercial))
        {
            await agent.AcceptAsync(unread);
            await agent.AcceptAsync(read);
            await using var first = await Conversation.VisitorAsync(Node, unreadVisitor);
            await first.SendAsync(unread, "Halo?");
            await first.SendAsync(unread, "Ada orang?");
            await using var second = await Conversation.VisitorAsync(Node, readVisitor);
            var message = await second.SendAsync(read, "Terima kasih");
            // Read in another console: the server counts it read.
            await agent.InvokeAsync<System.Text.Json.JsonElement>("MarkRead", read.ToString(), message.Seq());
        }

        await using (var context = await chromium.Browser.NewContextAsync())
        {
            var page = await SignedInAsync(context, commercial);
            await Assertions.Expect(page.Locator("#chats .chat-link")).ToHaveCountAsync(2, new() { Timeout = Patience });
            await Assertions.Expect(Unread(page, unread)).ToHaveTextAsync("2", new() { Timeout = Patience });
            await Assertions.Expect(Unread(page, read)).ToHaveTextAsync("");

            await page.Locator($"#chats .chat-link[data-chat-id='{unread}']").ClickAsync();
            await Assertions.Expect(page.Locator("#read-state")).ToHaveTextAsync("All messages read", new() { Timeout = Patience });

            await page.ReloadAsync();
            await Assertions.Expect(page.Locator("#conversation")).ToBeVisibleAsync(new() { Timeout = Patience });
            await Assertions.Expect(page.Locator(".messages:visible li.message .text")).ToHaveTextAsync(["Halo?", "Ada orang?"], new() { Timeout = Patience });
            Assert.Equal(unread.ToString(), await page.Locator(".messages:visible").GetAttributeAsync("data-chat-id"));
        }

        // Another browser: what the first one read is read.
        await using var other = await chromium.Browser.NewContextAsync();
        var again = await SignedInAsync(other, commercial);
        await Assertions.Expect(again.Locator("#chats .chat-link")).ToHaveCountAsync(2, new() { Timeout = Patience });
        await Assertions.Expect(again.Locator("#conversation")).ToBeHiddenAsync();
        await Assertions.Expect(Unread(again, unread)).ToHaveTextAsync("", new() { Timeout = Patience });
        await Assertions.Expect(Unread(again, read)).ToHaveTextAsync("");
    }
}
