using ChatGrains.Grains;
using ChatGrains.Tests.Captcha;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>
/// The live-chat page with a captcha configured: the widget is stubbed through configuration
/// (<c>Captcha:ScriptUrl</c> names the fake provider's script, which fills the response field as
/// the real widget does), and the node verifies the token with the fake siteverify.
/// </summary>
[Trait("Category", "Browser")]
public sealed class CaptchaPageTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task ThePageRendersTheWidgetAllowsOnlyItsScriptAndSendsItsToken()
    {
        await using var verifier = await FakeSiteVerify.StartAsync();
        // A commercial on duty: without one the page offers no start.
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>(verifier.Settings()) { ["LiveChat:CommercialIds:0"] = Guid.NewGuid().ToString() });
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "id-ID" });
        var page = await context.NewPageAsync();
        var blocked = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                blocked.Add(message.Text);
            }
        };

        var response = await page.GotoAsync(new Uri(node.BaseAddress, "/livechat").ToString());
        var policy = await response!.HeaderValueAsync("content-security-policy");
        await Assertions.Expect(page.Locator(".h-captcha[data-stub='rendered']")).ToHaveCountAsync(1);
        await page.FillAsync("#name", "Budi");
        await page.FillAsync("#city", "Solo");
        await page.FillAsync("#country", "Indonesia");
        await page.ClickAsync("#start");

        await Assertions.Expect(page.Locator("#status")).ToContainTextAsync("Sesi dimulai");
        Assert.Contains($"script-src 'self' {verifier.Address.GetLeftPart(UriPartial.Authority)} ", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        var token = Assert.Single(verifier.Calls)["response"];
        Assert.StartsWith("pass-", token, StringComparison.Ordinal);
        Assert.Equal(FakeSiteVerify.SiteKey, await page.GetAttributeAsync(".h-captcha", "data-sitekey"));
        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.LiveChatSession));
        Assert.Empty(blocked);
    }

    [Fact]
    public async Task WithoutACaptchaThePageRendersNoWidgetAndKeepsThePagesPolicy()
    {
        await using var node = await TestNode.StartOnSqliteAsync();
        await using var context = await chromium.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync(new Uri(node.BaseAddress, "/livechat").ToString());
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);

        Assert.Equal(ChatGrains.ApiGateway.Http.StaticPages.ContentSecurityPolicy, await response!.HeaderValueAsync("content-security-policy"));
        Assert.Equal(0, await page.Locator(".h-captcha, .cf-turnstile").CountAsync());
    }
}
