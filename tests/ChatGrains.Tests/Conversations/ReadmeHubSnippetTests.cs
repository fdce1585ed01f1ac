using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Browser;
using ChatGrains.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.Playwright;

namespace ChatGrains.Tests.Conversations;

/// <summary>
/// The README's hub snippets, taken from the README as written: the C# commercial compiled as the
/// console program it says it is and run against a node; the JavaScript visitor run as a page's
/// module script in Chromium on the node's origin, through a reconnect.
/// </summary>
[Trait("Category", "Browser")]
public sealed class ReadmeHubSnippetTests(SqliteNodeFixture node, ChromiumFixture chromium)
    : IClassFixture<SqliteNodeFixture>, IClassFixture<ChromiumFixture>
{
    private const float Patience = 30_000;

    /// <summary>What <c>ImplicitUsings</c> gives a console project (Microsoft.NET.Sdk).</summary>
    private const string ConsoleProjectUsings =
        "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
        "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;";

    private TestNode Node => node.Node;

    [Fact]
    public async Task TheCSharpCommercialCompilesCleanlyAndAcceptsTheChatOfferedToIt()
    {
        var program = Compile(ReadmeSnippets.Block("hub-csharp"));
        var (commercial, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        // Offered before the program connects: the offer reaches it in its catch-up.
        await Conversation.OpenChatAsync(Node, chatId, Guid.NewGuid(), commercial);

        // The program runs until its Console.ReadLine returns.
        var enter = new TaskCompletionSource();
        var console = Console.In;
        Console.SetIn(new WaitingReader(enter.Task));
        try
        {
            var run = Task.Run(() => program.Invoke(null, [new[] { Node.BaseAddress.ToString().TrimEnd('/'), Node.Token(Roles.Commercial, commercial) }]));

            using var admin = Node.ClientFor(Roles.Admin);
            var deadline = DateTime.UtcNow.AddMilliseconds(Patience);
            JsonObject chat;
            while ((string?)(chat = (await admin.GetFromJsonAsync<JsonObject>(new Uri($"/v2/chats/{chatId}", UriKind.Relative)))!)["status"] != "ACTIVE")
            {
                Assert.False(run.IsCompleted, $"the program ended: {run.Exception}");
                Assert.True(DateTime.UtcNow < deadline, $"not accepted within {Patience / 1000} s: {chat}");
                await Task.Delay(100);
            }
            Assert.Equal(commercial.ToString(), (string?)chat["assignedCommercialId"]);

            enter.SetResult();
            if (await run.WaitAsync(TimeSpan.FromSeconds(30)) is Task main)
            {
                await main;
            }
        }
        finally
        {
            enter.TrySetResult();
            Console.SetIn(console);
        }
    }

    [Fact]
    public async Task TheJavaScriptVisitorShowsEachMessageOnceInOrderAlsoWhatWasSaidBeforeAndWhileDisconnected()
    {
        var (visitor, commercial, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await agent.AcceptAsync(chatId);
        await agent.SendAsync(chatId, "Selamat datang");

        // The snippet is the user's page's code, under the user's policy: the node's 404 page's does not apply.
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { BypassCSP = true });
        var page = await context.NewPageAsync();
        var uncaught = new List<string>();
        page.PageError += (_, error) => uncaught.Add(error);
        // The hub's WebSockets pass through the test, which can cut them; negotiations can be refused.
        var sockets = new List<(IWebSocketRoute Page, IWebSocketRoute Server)>();
        await page.RouteWebSocketAsync(new Regex(@"/hubs/livechat\?"), socket =>
        {
            lock (sockets)
            {
                sockets.Add((socket, socket.ConnectToServer()));
            }
        });
        var refuseNegotiation = false;
        await page.RouteAsync(new Regex("/hubs/livechat/negotiate"), route => Volatile.Read(ref refuseNegotiation) ? route.AbortAsync() : route.ContinueAsync());
        // A document of the node's origin and address (one fulfilled by the test would count as
        // public, and Chromium's local network access checks would block its WebSocket to loopback).
        await page.GotoAsync(new Uri(Node.BaseAddress, "/readme-snippet").ToString());
        await page.SetContentAsync(SnippetPage(visitor, chatId));

        await ShownAsync(page, "Selamat datang", "Halo!");
        await agent.NextAsync("message", Text("Halo!"));

        // The connection drops and cannot come back at once: what is said meanwhile is caught up after.
        Volatile.Write(ref refuseNegotiation, true);
        foreach (var (pageSide, serverSide) in Snapshot(sockets))
        {
            await pageSide.CloseAsync(new() { Code = 4000, Reason = "cut by the test" });
            await serverSide.CloseAsync();
        }
        await page.WaitForFunctionAsync("() => window.snippetHub.state === 'Reconnecting'", null, new() { Timeout = Patience });
        await agent.SendAsync(chatId, "Apa kabar?");
        Volatile.Write(ref refuseNegotiation, false);
        await ShownAsync(page, "Selamat datang", "Halo!", "Apa kabar?");
        await page.WaitForFunctionAsync("() => window.snippetHub.state === 'Connected'", null, new() { Timeout = Patience });
        await agent.SendAsync(chatId, "Baik?");
        await ShownAsync(page, "Selamat datang", "Halo!", "Apa kabar?", "Baik?");

        Assert.True(uncaught.Count == 0, string.Join("\n", uncaught));
    }

    /// <summary>A page of the node's origin: the node's SignalR client, the names the snippet expects, then the snippet.</summary>
    private string SnippetPage(Guid visitor, Guid chatId) =>
        $$"""
        <!doctype html>
        <meta charset="utf-8">
        <title>README snippet</title>
        <script src="/lib/signalr/signalr.min.js"></script>
        <script>
          const sessionToken = {{JsonSerializer.Serialize(Node.Token(Roles.Visitor, visitor))}};
          const chatId = "{{chatId}}";
          window.shown = [];
          function show(text) { window.shown.push(text); }
          function showStatus(status) { }
        </script>
        <script type="module">
        {{ReadmeSnippets.Block("hub-js")}}
        window.snippetHub = hub;
        </script>
        """;

    private static async Task ShownAsync(IPage page, params string[] expected)
    {
        try
        {
            await page.WaitForFunctionAsync("expected => JSON.stringify(window.shown) === JSON.stringify(expected)", expected, new() { Timeout = Patience });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"shown: {await page.EvaluateAsync<string>("() => JSON.stringify(window.shown)")}, expected {JsonSerializer.Serialize(expected)}");
        }
    }

    private static List<T> Snapshot<T>(List<T> items)
    {
        lock (items)
        {
            return [.. items];
        }
    }

    private static Func<JsonElement, bool> Text(string text) => message => message.GetProperty("text").GetString() == text;

    /// <summary>The snippet as a console project compiles it (implicit usings, nullable on); its entry point.</summary>
    private static MethodInfo Compile(string source)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator).Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create("ReadmeHubSnippet",
            [CSharpSyntaxTree.ParseText(source, parse), CSharpSyntaxTree.ParseText(ConsoleProjectUsings, parse)],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        var problems = emitted.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        Assert.True(emitted.Success && problems.Count == 0, string.Join("\n", problems));
        return Assembly.Load(image.ToArray()).EntryPoint!;
    }

    /// <summary>Standard input whose <c>ReadLine</c> returns (end of input) once <paramref name="enter"/> completes.</summary>
    private sealed class WaitingReader(Task enter) : TextReader
    {
        public override string? ReadLine()
        {
            enter.Wait();
            return null;
        }
    }
}
