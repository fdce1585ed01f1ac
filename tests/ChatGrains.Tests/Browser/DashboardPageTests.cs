using System.Text;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;
using ChatGrains.Tests.LiveChat;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>
/// The dashboard page in headless Chromium against a real three-node cluster on PostgreSQL,
/// with the dashboard's Basic credential configured (so loopback gets no free pass).
/// </summary>
[Trait("Category", "Browser")]
public sealed class DashboardPageTests(ChromiumFixture chromium, DashboardClusterFixture fixture)
    : IClassFixture<ChromiumFixture>, IClassFixture<DashboardClusterFixture>
{
    private const string CredentialKey = "dashboard.credential";
    private const string ChatRoute = "/v2/chats/{chatId}";
    private static readonly LocatorAssertionsToHaveCountOptions Heartbeats = new() { Timeout = 20_000 };

    private NodeCluster Cluster => fixture.Cluster;

    private Uri PageUri => new(Cluster.Nodes[0].BaseAddress, "/dashboard");

    private async Task<(IBrowserContext Context, IPage Page)> OpenAsync(string? credential = null)
    {
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
            Locale = "en-GB",
        });
        if (credential is not null)
        {
            // As if the operator had signed in earlier in this tab.
            await context.AddInitScriptAsync($"try {{ sessionStorage.setItem('{CredentialKey}', '{credential}'); }} catch {{ }}");
        }
        var page = await context.NewPageAsync();
        await page.GotoAsync(PageUri.ToString());
        return (context, page);
    }

    [Fact]
    public async Task AnAdminSeesEveryNodeAliveTheirEndpointsGrainsAndErrorsAndTheScreenshotIsWritten()
    {
        await Cluster.Database.ExecuteAsync(FaultInjection.Sql);
        using var traffic = new CancellationTokenSource();
        var sending = SendTrafficAsync(Cluster, traffic.Token);
        try
        {
            var (context, page) = await OpenAsync($"Bearer {Cluster.Nodes[0].Token(Roles.Admin, Guid.NewGuid())}");
            await using var _ = context;

            await Assertions.Expect(page.Locator("#login")).ToBeHiddenAsync();
            await Assertions.Expect(page.Locator("#nodes tr.node[data-status='alive']")).ToHaveCountAsync(3, Heartbeats);
            await Assertions.Expect(page.Locator("#nodes tr.node")).ToHaveCountAsync(3);
            await Assertions.Expect(page.Locator("#endpoints tr.endpoint > td:first-child").Filter(new() { HasTextString = ChatRoute }))
                .ToHaveCountAsync(1, Heartbeats);
            await Assertions.Expect(page.Locator("#endpoints tr.endpoint > td:first-child").Filter(new() { HasTextString = "/api/v1/chat/guest/session" }))
                .ToHaveCountAsync(1, Heartbeats);
            await Assertions.Expect(page.Locator("#errors tr.error-row")).Not.ToHaveCountAsync(0, new() { Timeout = 20_000 });
            // A few heartbeats more, so the charts have a history to draw.
            await page.WaitForFunctionAsync(
                $"() => (document.querySelector(\"#endpoints tr.endpoint[data-route='{ChatRoute}'] polyline\")?.getAttribute('points') ?? '').split(' ').length >= 8",
                null, new PageWaitForFunctionOptions { Timeout = 30_000 });

            await Assertions.Expect(page.Locator("#totals [data-total='nodes'] .value")).ToHaveTextAsync("3");
            // Counted exactly from the grain records (OrleansStorage rows of the chat kind).
            await Assertions.Expect(page.Locator("#grains [data-kind='chats'] .value")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^[0-9][0-9,.\s]*$"));
            await Assertions.Expect(page.Locator("#grains [data-kind]")).ToHaveCountAsync(3);
            await Assertions.Expect(page.Locator("#errors tr.error-row").First).ToContainTextAsync("/api/v1/chat/guest/session");
            Assert.Matches(@"^\d{2}:\d{2}:\d{2}$", await page.TextContentAsync("#updated"));
            var perNode = await page.Locator($"#endpoints tr.endpoint-node[data-route='{ChatRoute}']").CountAsync();
            Assert.InRange(perNode, 1, 3);

            // The page refreshes by itself: the time of the last refresh moves on.
            var before = await page.TextContentAsync("#updated");
            await Assertions.Expect(page.Locator("#updated")).Not.ToHaveTextAsync(before!, new() { Timeout = 10_000 });

            // Taken while the traffic still flows, so the latest figures are not an idle interval's.
            var screenshot = Path.Combine(RepositoryRoot(), "docs", "dashboard.png");
            Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
            Assert.True(new FileInfo(screenshot).Length > 10_000);
        }
        finally
        {
            await traffic.CancelAsync();
            await sending;
        }
    }

    [Fact]
    public async Task WithoutCredentialsThePageAsksForThemAndShowsNoNodes()
    {
        var (context, page) = await OpenAsync();
        await using var _ = context;

        await Assertions.Expect(page.Locator("#login")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#token")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#username")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#password")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#content")).ToBeHiddenAsync();
        Assert.Equal(0, await page.Locator("#nodes tr.node").CountAsync());
        Assert.Null(await page.EvaluateAsync<string?>($"sessionStorage.getItem('{CredentialKey}')"));
    }

    [Fact]
    public async Task SigningInWithTheUsernameAndPasswordShowsTheNodesAndSigningOutForgetsTheCredential()
    {
        var (context, page) = await OpenAsync();
        await using var _ = context;
        await Assertions.Expect(page.Locator("#login")).ToBeVisibleAsync();

        await page.FillAsync("#username", "ops");
        await page.FillAsync("#password", "s3cret");
        await page.ClickAsync("#sign-in");

        await Assertions.Expect(page.Locator("#login")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#nodes tr.node[data-status='alive']")).ToHaveCountAsync(3, Heartbeats);
        var stored = await page.EvaluateAsync<string>($"sessionStorage.getItem('{CredentialKey}')");
        Assert.Equal($"Basic {Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:s3cret"))}", stored);
        Assert.Equal("", await page.InputValueAsync("#password"));

        // Still signed in after a reload of the tab: the credential is kept for the session.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#nodes tr.node")).ToHaveCountAsync(3, Heartbeats);

        await page.ClickAsync("#sign-out");

        await Assertions.Expect(page.Locator("#login")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("#nodes tr.node").CountAsync());
        Assert.Null(await page.EvaluateAsync<string?>($"sessionStorage.getItem('{CredentialKey}')"));
    }

    [Fact]
    public async Task AWrongPasswordIsRefusedAndNothingIsKept()
    {
        var (context, page) = await OpenAsync();
        await using var _ = context;

        await page.FillAsync("#username", "ops");
        await page.FillAsync("#password", "wrong");
        await page.ClickAsync("#sign-in");

        await Assertions.Expect(page.Locator("#login-error")).ToHaveTextAsync("Wrong username or password.");
        await Assertions.Expect(page.Locator("#login")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("#nodes tr.node").CountAsync());
        Assert.Null(await page.EvaluateAsync<string?>($"sessionStorage.getItem('{CredentialKey}')"));
    }

    [Fact]
    public async Task AVisitorTokenIsToldTheAdminRoleIsRequired()
    {
        var (context, page) = await OpenAsync();
        await using var _ = context;

        await page.FillAsync("#token", Cluster.Nodes[0].Token(Roles.Visitor, Guid.NewGuid()));
        await page.ClickAsync("#sign-in");

        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("admin role required");
        await Assertions.Expect(page.Locator("#login")).ToBeVisibleAsync();
        Assert.Equal(0, await page.Locator("#nodes tr.node").CountAsync());
        Assert.Null(await page.EvaluateAsync<string?>($"sessionStorage.getItem('{CredentialKey}')"));
    }

    [Fact]
    public async Task ASavedVisitorTokenOpensThePromptWithTheAdminRoleMessage()
    {
        var (context, page) = await OpenAsync($"Bearer {Cluster.Nodes[1].Token(Roles.Visitor, Guid.NewGuid())}");
        await using var _ = context;

        await Assertions.Expect(page.Locator("#login")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("admin role required");
        Assert.Equal(0, await page.Locator("#nodes tr.node").CountAsync());
    }

    /// <summary>
    /// Chats, guest and live-chat sessions on every node, some 400s, and guest sessions whose
    /// insert the database refuses (<see cref="FaultInjection"/>) so there are 500s to list,
    /// at a varying pace so the charts have a shape.
    /// </summary>
    private static async Task SendTrafficAsync(NodeCluster cluster, CancellationToken cancellationToken)
    {
        var clients = cluster.Nodes.Select(node => node.ClientFor(Roles.Admin)).ToList();
        try
        {
            for (var round = 0; !cancellationToken.IsCancellationRequested; round++)
            {
                await Task.WhenAll(clients.Select(async (client, index) =>
                {
                    using (await client.PutChatAsync(Guid.NewGuid(), ChatRequests.FullBody(Guid.NewGuid())))
                    {
                    }
                    using (await client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId(), ["guest_name"] = "Guest" }))
                    {
                    }
                    if (round % 3 == index)
                    {
                        using (await client.PostLiveChatAsync(LiveChatRequests.Budi()))
                        {
                        }
                        using (await client.PutChatAsync(Guid.NewGuid().ToString(), "{}"))
                        {
                        }
                        using (await client.PostSessionAsync(new JsonObject { ["session_id"] = "" }))
                        {
                        }
                    }
                    if (round % 25 == 5 && index == 1)
                    {
                        using (await client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId(), ["guest_name"] = FaultInjection.GuestName }))
                        {
                        }
                    }
                }));
                await Task.Delay(20 + ((round % 30) * 4), cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>The folder holding ChatGrains.sln, found by walking up from the test binaries.</summary>
    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "ChatGrains.sln")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds ChatGrains.sln.");
    }

    /// <summary>A trigger that makes the database refuse one guest name: a real server error on a real request.</summary>
    private static class FaultInjection
    {
        public const string GuestName = "Fault Injection";

        public const string Sql = $"""
            CREATE OR REPLACE FUNCTION dashboard_test_fault() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.graintypestring = 'guestSession' AND convert_from(NEW.payloadbinary, 'UTF8') LIKE '%{GuestName}%' THEN
                    RAISE EXCEPTION 'injected by the dashboard test';
                END IF;
                RETURN NEW;
            END $$;
            CREATE OR REPLACE TRIGGER dashboard_test_fault BEFORE INSERT ON orleansstorage
                FOR EACH ROW EXECUTE FUNCTION dashboard_test_fault();
            """;
    }
}

/// <summary>Three nodes on PostgreSQL, 1 s heartbeats, the dashboard's Basic credential configured.</summary>
public sealed class DashboardClusterFixture : IAsyncLifetime
{
    public NodeCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await NodeCluster.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Cluster:HeartbeatInterval"] = "00:00:01",
        ["Dashboard:Username"] = "ops",
        ["Dashboard:Password"] = "s3cret",
    });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
