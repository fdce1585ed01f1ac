using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Tests.Infrastructure;
using ChatGrains.Tests.Operators;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Orleans.Runtime;

namespace ChatGrains.Tests.Browser;

/// <summary>
/// An operator's browser against the three-node cluster: sent to our sign-in page, pastes an
/// admin token, lands on the Orleans dashboard and sees the three silos and the grain types.
/// The cluster has dashboard credentials configured, so a browser on loopback is not let in.
/// Neither page breaks its Content-Security-Policy.
/// </summary>
[Collection(OperatorClusterCollection.Name)]
[Trait("Category", "Browser")]
public sealed class DashboardPageTests(ChromiumFixture chromium, OperatorClusterFixture fixture) : IClassFixture<ChromiumFixture>
{
    /// <summary>Set to 1 to rewrite docs/dashboard.png from this run.</summary>
    public const string RefreshScreenshots = "CHATGRAINS_REFRESH_SCREENSHOTS";

    private static readonly LocatorAssertionsToHaveTextOptions Patient = new() { Timeout = 30_000 };

    private NodeCluster Cluster => fixture.Cluster;

    private static string ScreenshotPath()
    {
        if (Environment.GetEnvironmentVariable(RefreshScreenshots) == "1")
        {
            return RepositoryPaths.Of("docs", "dashboard.png");
        }
        return Path.Combine(Path.GetTempPath(), $"chatgrains-dashboard-{Guid.NewGuid():N}.png");
    }

    [Fact]
    public async Task AnOperatorIsSentToSignInPastesAnAdminTokenAndSeesTheThreeSilosAndTheGrainTypes()
    {
        var node = Cluster.Nodes[0];
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
        });
        await CspViolations.RecordAsync(context);
        var page = await context.NewPageAsync();

        await page.GotoAsync(new Uri(node.BaseAddress, "/dashboard/").ToString());

        Assert.Equal(new Uri(node.BaseAddress, "/dashboard/sign-in").ToString(), page.Url);
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("ChatGrains operators");
        await page.FillAsync("#token", node.Token(Roles.Admin, Guid.NewGuid()));
        Assert.Empty(await CspViolations.OfAsync(page));
        var dashboard = await page.RunAndWaitForResponseAsync(
            () => page.ClickAsync("form[action='/dashboard/sign-in'] button[type=submit]"), new Uri(node.BaseAddress, "/dashboard/").ToString());
        await page.WaitForURLAsync(new Uri(node.BaseAddress, "/dashboard/").ToString());
        Assert.Equal(StaticPages.DashboardPolicy, await dashboard.HeaderValueAsync("content-security-policy"));
        Assert.Equal("DENY", await dashboard.HeaderValueAsync("x-frame-options"));

        var cookie = Assert.Single(await context.CookiesAsync([node.BaseAddress.ToString()]), c => c.Name == "chatgrains-dashboard");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);

        // The Orleans dashboard's own page, polling its JSON with the cookie.
        await Assertions.Expect(page).ToHaveTitleAsync("Orleans Dashboard");
        var activeSilos = page.Locator(".info-box:has(.info-box-text:text-is('Active Silos')) .info-box-number");
        await Assertions.Expect(activeSilos).ToHaveTextAsync("3", Patient);

        await page.ClickAsync("a[href='#/silos']");
        var healthyRows = page.Locator(".card:has(h3:has-text('Silo Health')) tr:has(.label-success:text-is('Active'))");
        await Assertions.Expect(healthyRows).ToHaveCountAsync(3, new() { Timeout = 30_000 });
        foreach (var silo in Cluster.Nodes.Select(n => n.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString()))
        {
            await Assertions.Expect(healthyRows.Locator($"a[href='#/host/{silo}']")).ToHaveTextAsync(silo);
        }

        // Read-back chats stay active for seconds (GrainLifetimes.CreatedIdle): made just before they are looked for.
        await DashboardJson.PutChatsThroughEveryNodeAsync(Cluster, perNode: 2);
        await page.ClickAsync("a[href='#/grains']");
        await Assertions.Expect(page.Locator("h1.m-0")).ToHaveTextAsync("Grains");
        foreach (var grain in new[] { "ChatGrains.Grains.ChatGrain", "Orleans.Dashboard.Implementation.Grains.DashboardGrain" })
        {
            var row = page.Locator($"tr:has(td[title='{grain}'])");
            await Assertions.Expect(row.Locator("a")).ToHaveTextAsync(grain[(grain.LastIndexOf('.') + 1)..], Patient);
            var activations = await row.Locator("td:nth-child(3) strong").TextContentAsync();
            Assert.True(int.Parse(activations!, System.Globalization.CultureInfo.InvariantCulture) > 0, $"{grain}: {activations} activations");
        }
        // The chat grain's calls are profiled while the dashboard is open: its throughput shows up.
        var chatThroughput = page.Locator("tr:has(td[title='ChatGrains.Grains.ChatGrain']) td:nth-child(5) strong");
        var traffic = Task.Run(async () =>
        {
            for (var i = 0; i < 40 && !page.IsClosed; i++)
            {
                await DashboardJson.PutChatsThroughEveryNodeAsync(Cluster, perNode: 1);
                if (await chatThroughput.TextContentAsync() is { } shown && shown != "0.00")
                {
                    return;
                }
            }
        });
        await Assertions.Expect(chatThroughput).Not.ToHaveTextAsync("0.00", Patient);
        await traffic;

        var violations = await CspViolations.OfAsync(page);
        Assert.True(violations.Length == 0, string.Join('\n', violations));

        var screenshot = ScreenshotPath();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        Assert.True(new FileInfo(screenshot).Length > 10_000, screenshot);
        if (Environment.GetEnvironmentVariable(RefreshScreenshots) != "1")
        {
            File.Delete(screenshot);
        }
    }
}
