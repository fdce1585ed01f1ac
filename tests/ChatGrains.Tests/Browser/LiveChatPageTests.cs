using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>The live-chat page in headless Chromium against a real node with a commercial on duty (spec 001, scenarios 1–3).</summary>
[Trait("Category", "Browser")]
public sealed class LiveChatPageTests(ChromiumFixture chromium, OnDutyNodeFixture fixture) : IClassFixture<ChromiumFixture>, IClassFixture<OnDutyNodeFixture>
{
    private TestNode Node => fixture.Node;

    private Uri PageUri => new(Node.BaseAddress, "/livechat");

    private async Task<(IBrowserContext Context, IPage Page)> OpenAsync(IEnumerable<Cookie>? cookies = null)
    {
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "id-ID" });
        if (cookies is not null)
        {
            await context.AddCookiesAsync(cookies);
        }
        var page = await context.NewPageAsync();
        await page.GotoAsync(PageUri.ToString());
        return (context, page);
    }

    private Cookie CookieFor(string name, string value) => new() { Name = name, Value = Uri.EscapeDataString(value), Url = Node.BaseAddress.ToString() };

    [Fact]
    public async Task AReturningListenerFindsTheFormFilledFromTheirCookies()
    {
        var (context, page) = await OpenAsync(
        [
            CookieFor("livechat_name", "Siti Aminah"),
            CookieFor("livechat_city", "Daerah Istimewa Yogyakarta"),
            CookieFor("livechat_country", "Indonesia"),
        ]);
        await using var _ = context;

        Assert.Equal("Siti Aminah", await page.InputValueAsync("#name"));
        Assert.Equal("Daerah Istimewa Yogyakarta", await page.InputValueAsync("#city"));
        Assert.Equal("Indonesia", await page.InputValueAsync("#country"));
        Assert.Equal("Suara Pendengar", await page.TextContentAsync("h1"));
    }

    [Fact]
    public async Task AnEmptyNameShowsTheIndonesianMessageNextToTheNameField()
    {
        var (context, page) = await OpenAsync();
        await using var _ = context;
        await page.FillAsync("#city", "Solo");
        await page.FillAsync("#country", "Indonesia");

        await page.ClickAsync("#start");

        await Assertions.Expect(page.Locator("#name-error")).ToHaveTextAsync("Nama wajib diisi.");
        Assert.Equal("true", await page.GetAttributeAsync("#name", "aria-invalid"));
        Assert.Equal("", await page.TextContentAsync("#city-error"));
        Assert.Null(await page.EvaluateAsync<string?>("localStorage.getItem('livechat.sessionToken')"));
    }

    [Fact]
    public async Task AValidSubmitStartsTheSessionKeepsTheTokenAndRemembersTheListener()
    {
        var (context, page) = await OpenAsync();
        await using var _ = context;
        await page.FillAsync("#name", "Budi");
        await page.FillAsync("#city", "Solo");
        await page.FillAsync("#country", "Indonesia");

        await page.ClickAsync("#start");

        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("Sesi dimulai");
        var token = await page.EvaluateAsync<string>("localStorage.getItem('livechat.sessionToken')");
        Assert.Equal(3, token.Split('.').Length);
        var cookies = await context.CookiesAsync([Node.BaseAddress.ToString()]);
        Assert.Equal("Budi", cookies.Single(c => c.Name == "livechat_name").Value);
        Assert.True(cookies.Single(c => c.Name == "livechat_name").Expires > DateTimeOffset.UtcNow.AddDays(364).ToUnixTimeSeconds());

        // Scenario 2 end to end: the next visit is pre-filled from what the server set.
        var again = await context.NewPageAsync();
        await again.GotoAsync(PageUri.ToString());
        Assert.Equal("Budi", await again.InputValueAsync("#name"));
        Assert.Equal("Solo", await again.InputValueAsync("#city"));
    }

    [Theory]
    [InlineData("<img src=x onerror=\"window.__xss='img'\">")]
    [InlineData("\"><script>window.__xss='script'</script>")]
    [InlineData("<svg onload=\"window.__xss='svg'\">")]
    public async Task MarkupTypedIntoTheFormNeverRuns(string markup)
    {
        var (context, page) = await OpenAsync();
        await using var _ = context;
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        await page.FillAsync("#name", markup);
        await page.FillAsync("#city", markup);
        await page.FillAsync("#country", "Indonesia");

        await page.ClickAsync("#start");

        await Assertions.Expect(page.Locator("#name-error")).ToContainTextAsync("hanya boleh berisi");
        Assert.Null(await page.EvaluateAsync<string?>("window.__xss ?? null"));
        Assert.Equal(0, dialogs);
        Assert.Equal(0, await page.Locator("main img, main svg, main script").CountAsync());
    }

    [Fact]
    public async Task MarkupInATamperedCookieIsShownAsTextNotRun()
    {
        var (context, page) = await OpenAsync([CookieFor("livechat_name", "<img src=x onerror=\"window.__xss=1\">")]);
        await using var _ = context;

        Assert.Equal("<img src=x onerror=\"window.__xss=1\">", await page.InputValueAsync("#name"));
        Assert.Null(await page.EvaluateAsync<string?>("window.__xss ?? null"));
        Assert.Equal(0, await page.Locator("main img").CountAsync());
    }
}
