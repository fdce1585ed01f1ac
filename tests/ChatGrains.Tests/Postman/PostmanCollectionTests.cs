using System.Diagnostics;
using System.Text.RegularExpressions;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Postman;

/// <summary>
/// Runs <c>tests/postman/ChatGrains.postman_collection.json</c> (spec 001's Postman artefact) with
/// newman against a real node, so the collection stays true to the service. Newman comes from
/// <c>tests/postman/package.json</c>: <c>npm ci --prefix tests/postman</c> installs it (.ci/run does).
/// </summary>
[Trait("Category", "Postman")]
public sealed partial class PostmanCollectionTests
{
    private static readonly TimeSpan NewmanTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ThePostmanCollectionPassesEveryAssertionAgainstALiveNode()
    {
        var root = RepositoryPaths.Root;
        var postman = Path.Combine(root, "tests", "postman");
        var collection = Path.Combine(postman, "ChatGrains.postman_collection.json");
        var newman = Path.Combine(postman, "node_modules", ".bin", "newman");
        Assert.True(File.Exists(collection), $"The Postman collection is missing: {collection}");
        if (!File.Exists(newman))
        {
            Assert.Fail($"newman is not installed ({newman} is missing): run `npm ci --prefix tests/postman` from {root} first (.ci/run does).");
        }

        // newman stands in for the balancer here: the collection checks that a trace continues
        // (honoured only from a known proxy) and rate-limit headers (generous limits). Its
        // visitors offer their chats to the commercial its README puts on duty.
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
        {
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
            ["LiveChat:CommercialIds:0"] = "550e8400-e29b-4b5b-9cb4-123456789001",
        });
        var visitorId = Guid.NewGuid();
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["baseUrl"] = node.BaseAddress.GetLeftPart(UriPartial.Authority),
            ["adminToken"] = node.Token(Roles.Admin, Guid.NewGuid()),
            ["visitorToken"] = node.Token(Roles.Visitor, visitorId),
            ["visitorId"] = visitorId.ToString(),
        };

        var (exitCode, output) = await RunAsync(newman, postman, collection, variables);

        Assert.True(exitCode == 0, $"newman exited with {exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? $"no code: killed after {NewmanTimeout.TotalSeconds} s"}.\n{output}");
    }

    /// <summary>Runs newman to the end, or kills it at the timeout; returns its exit code (null when killed) and everything it printed.</summary>
    private static async Task<(int? ExitCode, string Output)> RunAsync(string newman, string workingDirectory, string collection, IReadOnlyDictionary<string, string> variables)
    {
        var start = new ProcessStartInfo(newman)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The node is on loopback: a proxy from the environment must not stand in between.
        start.Environment["NO_PROXY"] = start.Environment["no_proxy"] = "127.0.0.1,localhost";
        foreach (var argument in new[] { "run", collection, "--reporters", "cli", "--color", "off", "--timeout-request", "30000" })
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in variables)
        {
            start.ArgumentList.Add("--env-var");
            start.ArgumentList.Add($"{name}={value}");
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {newman}.");
        // Both pipes are drained while newman runs, so neither can fill up and stall it.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        int? exitCode;
        using (var timeout = new CancellationTokenSource(NewmanTimeout))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
                exitCode = process.ExitCode;
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                exitCode = null;
            }
        }
        var output = AnsiEscape().Replace(await stdout, "");
        var errors = AnsiEscape().Replace(await stderr, "");
        return (exitCode, errors.Length == 0 ? output : $"{output}\n--- stderr ---\n{errors}");
    }

    /// <summary>Colour codes newman's tables print even with <c>--color off</c>.</summary>
    [GeneratedRegex(@"\x1B\[[0-9;]*m", RegexOptions.CultureInvariant)]
    private static partial Regex AnsiEscape();
}
