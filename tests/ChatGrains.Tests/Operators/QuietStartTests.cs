using System.Net;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Operators;

/// <summary>
/// A fresh node, started as a user starts it (its own process), logs no warning and no error: on
/// the default embedded SQLite, and as a cluster node on a fresh PostgreSQL database. The README
/// shows what a good start prints.
/// </summary>
[Trait("Category", "Operators")]
public sealed class QuietStartTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task AFreshNodeLogsNoWarningAlsoOnceTheDashboardHasAnswered(string storage)
    {
        var folder = Directory.CreateTempSubdirectory("chatgrains-quiet-start-");
        await using var database = storage == "postgres" ? await (await PostgresServer.Shared).CreateDatabaseAsync() : null;
        // A cluster node needs the cluster's signing key.
        var key = TestKeys.CopyInto(folder);
        try
        {
            // The process logs at Warning (NodeProcess), host lifetime lines aside.
            await using var node = await NodeProcess.StartAsync(new Dictionary<string, string?>
            {
                ["Storage:SqlitePath"] = Path.Combine(folder.FullName, "chatgrains.db"),
                ["ConnectionStrings:ChatGrains"] = database?.ConnectionString,
                ["Jwt:SigningKeyPath"] = key,
            });

            // The dashboard answering from its grains (on loopback, with no credentials configured,
            // it is open) is the later marker: its grain calls at start, made before the silo could
            // serve them, were where the warnings came from.
            using var client = new HttpClient { BaseAddress = node.BaseAddress };
            using var response = await client.GetAsync(new Uri("/dashboard/DashboardCounters", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            // (Its lines are JSON. Orleans' watchdog reports a starved machine, such as the
            // suite's other nodes make, not the start.)
            var warnings = node.RecentLog().Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(line => !line.Contains("\"LogLevel\":\"Information\"", StringComparison.Ordinal))
                .Where(line => !line.Contains("Participant check thread has not completed", StringComparison.Ordinal))
                .ToList();
            Assert.True(warnings.Count == 0, string.Join("\n", warnings));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
