using ChatGrains.Grains;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ChatGrains.Tests.Faults;

/// <summary>Heavy: three node processes, nginx and a PostgreSQL server per test, so one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultCollection
{
    public const string Name = "faults under load";
}

/// <summary>
/// Faults under steady load through a real balancer: a node dies, the database restarts, a
/// replay storm, a rolling restart. What the balancer's client saw is checked against what
/// PostgreSQL holds: an acknowledged chat is never lost, never doubled, never altered.
/// Each test owns its cluster (they are destructive) and stays within ~10–20 s of load.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", "Faults")]
public sealed class FaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task KillingANodeMidLoadLosesNoAcknowledgedChat()
    {
        await using var cluster = await BalancedCluster.StartAsync();
        using var client = cluster.CreateClient();
        // The commercial every load request offers its chat to gets its grain on the doomed node
        // (placed where its first offer came from), so the kill also takes a grain that every
        // creation needs: creations must not wait for the membership to declare the death.
        using (var viaDoomed = cluster.CreateClient(cluster.Nodes[1].BaseAddress))
        {
            using var first = await viaDoomed.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var load = LoadGenerator.Start(client, TimeSpan.FromSeconds(8));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var killedAt = load.Elapsed;
        await cluster.Nodes[1].KillAsync();
        var sent = await load.Completion;

        Report(sent, $"node 2 SIGKILLed at {Seconds(killedAt)}");
        var failed = sent.Where(s => !s.Acknowledged).ToList();
        output.WriteLine($"balancer-visible errors: {failed.Count} of {sent.Count} ({Percent(failed.Count, sent.Count)})");
        // Only requests in flight on the killed node can fail, and nginx retries an idempotent
        // PUT on the next node; at most a handful may be lost to the race, never 1 %.
        Assert.True(failed.Count <= sent.Count / 100, $"{failed.Count} of {sent.Count} failed: {Describe(failed)}\n{cluster.NodesReport()}\n{cluster.BalancerLog()}");
        Assert.DoesNotContain(failed, s => s.Status == HttpStatusCode.InternalServerError);
        Assert.Contains(sent, s => s.Acknowledged && s.Started > killedAt + TimeSpan.FromSeconds(1));
        await AssertEveryAcknowledgedChatIsStoredOnceAsSentAsync(cluster.Database, sent, extraChats: 1);
    }

    [Fact]
    public async Task ChatsThatLivedOnAKilledNodeAnswerWithTheirStoredChatWithinTenSeconds()
    {
        await using var cluster = await BalancedCluster.StartAsync();
        // Created through node 2, so their grains live there (placed where the request arrived).
        var created = new Dictionary<Guid, string>();
        using (var viaNode2 = cluster.CreateClient(cluster.Nodes[1].BaseAddress))
        {
            for (var i = 0; i < 20; i++)
            {
                var chatId = Guid.NewGuid();
                using var response = await viaNode2.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                created[chatId] = await response.Content.ReadAsStringAsync();
            }
        }
        using var viaNode1 = cluster.CreateClient(cluster.Nodes[0].BaseAddress);

        // A replay waits for the membership to declare the dead silo dead, then reactivates the
        // chat from storage; one that cannot wait long enough answers 503 with Retry-After.
        await cluster.Nodes[1].KillAsync();
        var sinceKill = System.Diagnostics.Stopwatch.StartNew();
        var pending = created.Keys.ToHashSet();
        var unavailable = 0;
        var lastUnavailable = TimeSpan.Zero;
        // Bounded: every replay answers within the grain call timeout, and 30 s is 3× the target.
        while (pending.Count > 0 && sinceKill.Elapsed < TimeSpan.FromSeconds(30))
        {
            foreach (var chatId in pending.ToList())
            {
                var sent = sinceKill.Elapsed;
                using var replay = await viaNode1.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));
                var took = sinceKill.Elapsed - sent;
                Assert.True(took <= TimeSpan.FromSeconds(10), $"a replay hung for {Seconds(took)}");
                if (replay.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    Assert.NotNull(replay.Headers.RetryAfter);
                    Assert.Equal(503, (int?)(await replay.JsonAsync())["status"]);
                    unavailable++;
                    lastUnavailable = sinceKill.Elapsed;
                    continue;
                }
                Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
                Assert.Equal(created[chatId], await replay.Content.ReadAsStringAsync());
                pending.Remove(chatId);
            }
        }
        var recovered = sinceKill.Elapsed;

        output.WriteLine($"{unavailable} replays answered 503 (the last {Seconds(lastUnavailable)} after the kill); " +
                         $"every chat answered with its stored body again {Seconds(recovered)} after the kill");
        Assert.Empty(pending);
        Assert.True(recovered <= TimeSpan.FromSeconds(10), $"the chats of the killed node answered again only after {Seconds(recovered)}");
    }

    [Fact]
    public async Task CrashingTheDatabaseUnderLoadAnswers503AndLosesNothing()
    {
        // Here the balancer passes every node answer through: no retry of a 503 on another node
        // (they are all without a database alike) and no passive health check (max_fails=0).
        // With them nginx would mark every node down after their 503s and answer its own
        // 502 "no live upstreams" for 5 s, so the test would measure nginx, not the nodes.
        await using var cluster = await BalancedCluster.StartAsync(new BalancerOptions(NextUpstream: "error timeout", MaxFails: 0));
        using var client = cluster.CreateClient();
        var pids = cluster.Nodes.Select(n => n.ProcessId).ToList();

        var load = LoadGenerator.Start(client, TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var stopping = load.Elapsed;
        // A crash, not a clean stop: nothing flushed at shutdown, recovery from the WAL at start.
        await cluster.Server.CrashAsync();
        var stopped = load.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var starting = load.Elapsed;
        await cluster.Server.StartAsync();
        var started = load.Elapsed;
        var sent = await load.Completion;

        Report(sent, $"database stopping {Seconds(stopping)}, down {Seconds(stopped)}, starting {Seconds(starting)}, up {Seconds(started)}");
        var down = sent.Where(s => s.Started >= stopped && s.Started + s.Elapsed <= starting).ToList();
        var recovered = sent.Where(s => s.Started >= started + TimeSpan.FromSeconds(1)).ToList();
        var lastUnavailable = sent.LastOrDefault(s => s.Status == HttpStatusCode.ServiceUnavailable);
        output.WriteLine($"while down: {down.Count} requests, {Describe(down)}; after restart + 1 s: {recovered.Count}, {Describe(recovered)}; " +
                         $"last 503 started at {(lastUnavailable is null ? "-" : Seconds(lastUnavailable.Started))}");

        // Nothing but 200 or 503: no 500, no balancer error, no hang, no dropped connection.
        Assert.Empty(sent.Where(s => s.Status is not (HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable)).Select(Describe));
        Assert.All(sent, s => Assert.True(s.Elapsed <= TimeSpan.FromSeconds(10), $"{s.ChatId} took {Seconds(s.Elapsed)}"));
        Assert.All(sent.Where(s => s.Status == HttpStatusCode.ServiceUnavailable), s =>
        {
            Assert.True(s.HasRetryAfter, $"503 without Retry-After: {s.ResponseBody}");
            var problem = JsonNode.Parse(s.ResponseBody!)!;
            Assert.Equal(503, (int?)problem["status"]);
            Assert.DoesNotContain("Npgsql", s.ResponseBody, StringComparison.Ordinal);
        });
        Assert.NotEmpty(down);
        Assert.All(down, s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s.Status));
        // The same processes serve again by themselves, on every node.
        Assert.NotEmpty(recovered);
        Assert.All(recovered, s => Assert.Equal(HttpStatusCode.OK, s.Status));
        Assert.Equal(pids, cluster.Nodes.Select(n => n.ProcessId));
        foreach (var node in cluster.Nodes)
        {
            Assert.False(node.HasExited);
            using var direct = cluster.CreateClient(node.BaseAddress);
            var chatId = Guid.NewGuid();
            using var response = await direct.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(chatId.ToString(), (string?)(await response.JsonAsync())["id"]);
        }
        await AssertEveryAcknowledgedChatIsStoredOnceAsSentAsync(cluster.Database, sent, extraChats: cluster.Nodes.Count);
    }

    [Fact]
    public async Task AReplayStormThroughTheBalancerCreatesOneChat()
    {
        await using var cluster = await BalancedCluster.StartAsync();
        using var client = cluster.CreateClient();
        var chatId = Guid.NewGuid();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var puts = Enumerable.Range(0, 200).Select(async i =>
        {
            var body = ChatRequests.MinimalBody(Guid.NewGuid());
            body["visitorInfo"]!["name"] = $"Writer {i}";
            await gate.Task;
            using var response = await client.PutChatAsync(chatId, body);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }).ToList();
        gate.SetResult();

        var responses = await Task.WhenAll(puts);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var body = Assert.Single(responses.Select(r => r.Body).Distinct(StringComparer.Ordinal));
        var chat = JsonNode.Parse(body)!;
        Assert.Equal(chatId.ToString(), (string?)chat["id"]);
        Assert.StartsWith("Writer ", (string?)chat["visitorInfo"]!["name"], StringComparison.Ordinal);
        Assert.Equal(1, await cluster.Database.GrainRecordsAsync(GrainStorage.Chat));
        // The stored record is the winner the 200 replies returned.
        var stored = Assert.Single(await cluster.Database.GrainPayloadsAsync(GrainStorage.Chat, chatId));
        Assert.Equal((string?)chat["visitorInfo"]!["name"], (string?)stored["Value"]!["Visitor"]!["Name"]);
    }

    [Fact]
    public async Task ARollingRestartUnderLoadFailsNoRequest()
    {
        await using var cluster = await BalancedCluster.StartAsync();
        using var client = cluster.CreateClient();
        var steps = new List<(int Node, int ExitCode, IReadOnlyList<string> Members)>();

        // Stopped as soon as the last node is back. The bound is only a safety net: a bound near
        // the restarts' own duration (it was 45 s) ended the load before the last node was back
        // on a busy machine, and nginx then never sent that node traffic again.
        var load = LoadGenerator.Start(client, TimeSpan.FromSeconds(150));
        await Task.Delay(TimeSpan.FromSeconds(1));
        for (var i = 0; i < cluster.Nodes.Count; i++)
        {
            var siloPort = cluster.Nodes[i].SiloPort;
            await WaitUntilActiveAsync(cluster.Database, siloPort);
            var terminating = load.Elapsed;
            var exitCode = await cluster.Nodes[i].TerminateAsync(TimeSpan.FromSeconds(20));
            var exited = load.Elapsed;
            // Read before the restart: the restarted silo joins on the same port, a new generation.
            steps.Add((i + 1, exitCode, await SilosAsync(cluster.Database, siloPort)));
            await cluster.RestartNodeAsync(i);
            var ready = load.Elapsed;
            // nginx took the node out for fail_timeout when its port refused; stopping the next
            // one before the balancer sends this one traffic again would leave nginx no node.
            await WaitUntilServingThroughTheBalancerAsync(cluster, cluster.Nodes[i]);
            output.WriteLine($"node {i + 1}: SIGTERM at {Seconds(terminating)}, exit {exitCode} at {Seconds(exited)}, " +
                             $"ready again at {Seconds(ready)}, serving through nginx by {Seconds(load.Elapsed)}");
        }
        await Task.Delay(TimeSpan.FromSeconds(1));
        var sent = await load.StopAsync();

        Report(sent, "rolling restart");
        foreach (var (node, exitCode, members) in steps)
        {
            output.WriteLine($"node {node}: exit code {exitCode}, membership rows for its silo after exit: {string.Join("; ", members)}");
        }
        var failed = sent.Where(s => !s.Acknowledged).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {sent.Count} failed: {Describe(failed)}\n{cluster.BalancerLog()}");
        Assert.All(steps, s => Assert.Equal(0, s.ExitCode));
        // Each stopped silo left the membership itself: its one row already said Dead (6) when
        // the process exited (a killed silo stays Active until its probers' votes declare it dead).
        Assert.All(steps, s => Assert.StartsWith("status=6 ", Assert.Single(s.Members), StringComparison.Ordinal));
        await AssertEveryAcknowledgedChatIsStoredOnceAsSentAsync(cluster.Database, sent);
    }

    /// <summary>
    /// Every 200 is stored exactly once (one chat grain record) with the visitor and name its
    /// request sent; every stored chat is one that was sent (a request whose answer was lost may
    /// have been stored, but only as sent), with exactly one <c>chat.created</c> event.
    /// </summary>
    private async Task AssertEveryAcknowledgedChatIsStoredOnceAsSentAsync(PostgresDatabase database, IReadOnlyList<SentChat> sent, int extraChats = 0)
    {
        var stored = (await database.GrainPayloadsAsync(GrainStorage.Chat))
            .Select(p => p["Value"]!)
            .Select(c => (Id: (Guid)c["Id"]!, VisitorId: (Guid)c["VisitorId"]!, Name: (string)c["Visitor"]!["Name"]!))
            .ToList();
        var byId = sent.ToDictionary(s => s.ChatId);
        var acknowledged = sent.Where(s => s.Acknowledged).ToList();
        output.WriteLine($"sent {sent.Count}, acknowledged {acknowledged.Count}, stored {stored.Count}");

        Assert.Equal(sent.Count, byId.Count);
        Assert.Equal(stored.Count, stored.Select(s => s.Id).Distinct().Count());
        var storedIds = stored.Select(s => s.Id).ToHashSet();
        Assert.Empty(acknowledged.Where(s => !storedIds.Contains(s.ChatId)).Select(s => $"lost: {Describe(s)}"));
        Assert.Empty(acknowledged.Where(s => !RepliedAsSent(s)).Select(s => $"answered with another chat: {s.ChatId} {s.ResponseBody}"));
        var unknown = stored.Where(s => !byId.ContainsKey(s.Id)).ToList();
        Assert.Equal(extraChats, unknown.Count);
        Assert.Empty(stored.Where(s => byId.TryGetValue(s.Id, out var request) && (request.VisitorId != s.VisitorId || request.VisitorName != s.Name))
            .Select(s => $"stored otherwise than sent: {s}"));

        // The event log: one chat.created per stored chat, numbered 1, and none for a chat that
        // was not stored, whatever was killed when.
        var created = (await database.EventsAsync()).Where(e => e.Type == EventTypes.ChatCreated).ToList();
        Assert.Empty(created.GroupBy(e => e.ChatId).Where(g => g.Count() > 1).Select(g => $"chat.created twice: {g.Key}"));
        Assert.Empty(storedIds.Except(created.Select(e => e.ChatId!.Value)).Select(id => $"stored without its event: {id}"));
        Assert.Empty(created.Select(e => e.ChatId!.Value).Except(storedIds).Select(id => $"an event for a chat never stored: {id}"));
        Assert.All(created, e => Assert.Equal(1L, e.ChatSeq));
    }

    private static bool RepliedAsSent(SentChat s)
    {
        var chat = JsonNode.Parse(s.ResponseBody!)!;
        return (string?)chat["id"] == s.ChatId.ToString()
               && (string?)chat["visitorId"] == s.VisitorId.ToString()
               && (string?)chat["visitorInfo"]!["name"] == s.VisitorName;
    }

    private static async Task WaitUntilActiveAsync(PostgresDatabase database, int siloPort)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await SilosAsync(database, siloPort)).Count(m => m.StartsWith("status=3 ", StringComparison.Ordinal)) != 1)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the silo on port {siloPort} never became active in the membership table");
            await Task.Delay(200);
        }
    }

    /// <summary>Until the node's own metrics count PUTs it served (a restarted node starts from zero).</summary>
    private static async Task WaitUntilServingThroughTheBalancerAsync(BalancedCluster cluster, NodeProcess node)
    {
        using var client = cluster.CreateClient(node.BaseAddress);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!ServedChatPuts(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative))))
        {
            Assert.True(DateTime.UtcNow < deadline, $"nginx never sent traffic to {node.BaseAddress} again");
            await Task.Delay(200);
        }
    }

    /// <summary>Whether a Prometheus scrape counts at least one request to the chat route.</summary>
    private static bool ServedChatPuts(string metrics) =>
        metrics.Split('\n').Any(line => line.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
                                         && line.Contains("http_route=\"/v2/chats/{chatId}\"", StringComparison.Ordinal)
                                         && !line.EndsWith(" 0", StringComparison.Ordinal));

    /// <summary>Orleans' membership rows of the silo on a port, as "status=N suspected_by=…" (3 active, 6 dead).</summary>
    private static Task<IReadOnlyList<string>> SilosAsync(PostgresDatabase database, int siloPort) =>
        database.StringsAsync($"SELECT 'status=' || status || ' suspected_by=' || coalesce(suspecttimes, '') FROM orleansmembershiptable WHERE port = {siloPort} ORDER BY generation");

    private void Report(IReadOnlyList<SentChat> sent, string events)
    {
        var latencies = sent.Select(s => s.Elapsed).Order().ToList();
        output.WriteLine($"{events}; {sent.Count} requests over {Seconds(sent.Count == 0 ? TimeSpan.Zero : sent[^1].Started)}: " +
                         $"{Describe(sent)}; p50 {Millis(latencies, 0.50)}, p99 {Millis(latencies, 0.99)}, max {Millis(latencies, 1)}");
    }

    private static string Describe(IEnumerable<SentChat> sent) =>
        string.Join(", ", sent.GroupBy(s => s.Outcome).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} × {g.Count()}"));

    private static string Describe(SentChat s) =>
        $"{s.ChatId} started {Seconds(s.Started)} took {Seconds(s.Elapsed)}: {s.Outcome} {s.ResponseBody}";

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000 s", CultureInfo.InvariantCulture);

    private static string Percent(int part, int whole) => whole == 0 ? "-" : (100.0 * part / whole).ToString("0.00 '%'", CultureInfo.InvariantCulture);

    private static string Millis(List<TimeSpan> sorted, double quantile) =>
        sorted.Count == 0 ? "-" : sorted[Math.Min(sorted.Count - 1, (int)(quantile * sorted.Count))].TotalMilliseconds.ToString("0 ms", CultureInfo.InvariantCulture);
}
