using ChatGrains.ApiGateway.Http;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>Swagger UI under its Content-Security-Policy: it still loads the document and lists the operations.</summary>
[Trait("Category", "Browser")]
public sealed class SwaggerPageTests(ChromiumFixture chromium, SqliteNodeFixture fixture) : IClassFixture<ChromiumFixture>, IClassFixture<SqliteNodeFixture>
{
    [Fact]
    public async Task SwaggerUiRendersTheOperationsUnderItsPolicyWithoutAViolation()
    {
        await using var context = await chromium.Browser.NewContextAsync();
        await CspViolations.RecordAsync(context);
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync(new Uri(fixture.Node.BaseAddress, "/swagger").ToString());

        Assert.Equal(StaticPages.SwaggerUiPolicy, await response!.HeaderValueAsync("content-security-policy"));
        var chats = page.Locator(".opblock-put .opblock-summary-path[data-path='/v2/chats/{chatId}']");
        await Assertions.Expect(chats).ToBeVisibleAsync(new() { Timeout = 30_000 });
        Assert.True(await page.Locator(".opblock").CountAsync() >= 3);
        // Opening an operation renders its parameters and schemas (more of the UI's styles and icons).
        await chats.ClickAsync();
        await Assertions.Expect(page.Locator(".opblock-put.is-open .parameters-container")).ToBeVisibleAsync();
        var violations = await CspViolations.OfAsync(page);
        Assert.True(violations.Length == 0, string.Join('\n', violations));
    }
}
