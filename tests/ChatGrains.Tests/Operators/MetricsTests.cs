using System.Net;
using System.Net.Http.Headers;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Operators;

/// <summary>
/// A node in its own process, as in production: its scrape carries its own meters only. (In the
/// test host every node's meter provider also listens to the other nodes' meters of the same
/// name, so a gauge read there may be another node's.)
/// </summary>
public sealed class MetricsNodeFixture : IAsyncLifetime
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("chatgrains-metrics-");

    public NodeProcess Node { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Node = await NodeProcess.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:SqlitePath"] = Path.Combine(_folder.FullName, "chatgrains.db"),
            ["Jwt:SigningKeyPath"] = TestKeys.CopyInto(_folder),
        });

    public HttpClient ClientFor(string role, Guid? subject = null)
    {
        var client = new HttpClient { BaseAddress = Node.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.IssueToken(role, subject));
        return client;
    }

    public async Task DisposeAsync()
    {
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }
        _folder.Delete(recursive: true);
    }
}

/// <summary>The Prometheus scrape at <c>/metrics</c>: ASP.NET Core request durations by route and the service's own counters.</summary>
[Trait("Category", "Operators")]
public sealed class MetricsTests(MetricsNodeFixture fixture) : IClassFixture<MetricsNodeFixture>
{
    private async Task<string> ScrapeAsync()
    {
        using var client = fixture.ClientFor(Roles.Admin);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
        request.Headers.Host = OperatorClient.ForeignHost;
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/metrics: {(int)response.StatusCode} {text}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return text;
    }

    private static string[] Samples(string scrape, string metric) =>
        [.. scrape.Split('\n').Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal))];

    private static double Value(string sample) =>
        double.Parse(sample[(sample.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task AfterChatTrafficTheScrapeHasRequestDurationsByRouteAndChatsCreated()
    {
        using var commercial = fixture.ClientFor(Roles.Commercial);
        for (var i = 0; i < 3; i++)
        {
            using var created = await commercial.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        var scrape = await OperatorClient.WaitForAsync(ScrapeAsync,
            s => Samples(s, "chatgrains_grains_created_total").Any(l => l.Contains("kind=\"chat\"", StringComparison.Ordinal) && Value(l) >= 3)
                 && Samples(s, "chatgrains_events_stored_total").Any(l => l.Contains("type=\"chat.created\"", StringComparison.Ordinal) && Value(l) >= 3)
                 && Samples(s, "http_server_request_duration_seconds_bucket").Any(l => l.Contains("http_route=\"/v2/chats/{chatId}\"", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), s => s);

        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", scrape, StringComparison.Ordinal);
        var buckets = Samples(scrape, "http_server_request_duration_seconds_bucket")
            .Where(l => l.Contains("http_route=\"/v2/chats/{chatId}\"", StringComparison.Ordinal) && l.Contains("http_request_method=\"PUT\"", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(buckets);
        Assert.Contains(buckets, l => l.Contains("http_response_status_code=\"200\"", StringComparison.Ordinal) && l.Contains("le=\"+Inf\"", StringComparison.Ordinal) && Value(l) >= 3);
        // Summed: one CI scrape once held two series for these labels (their other labels were not
        // recorded); the route's PUT count is what this test is about, not how it is split.
        var counts = Samples(scrape, "http_server_request_duration_seconds_count")
            .Where(l => l.Contains("http_route=\"/v2/chats/{chatId}\"", StringComparison.Ordinal)
                        && l.Contains("http_request_method=\"PUT\"", StringComparison.Ordinal)
                        && l.Contains("http_response_status_code=\"200\"", StringComparison.Ordinal))
            .ToList();
        Assert.True(counts.Sum(Value) >= 3, string.Join("\n", counts));

        Assert.Contains("# TYPE chatgrains_grains_created_total counter", scrape, StringComparison.Ordinal);
        var chats = Samples(scrape, "chatgrains_grains_created_total").Where(l => l.Contains("kind=\"chat\"", StringComparison.Ordinal)).ToList();
        Assert.True(chats.Sum(Value) >= 3, string.Join("\n", chats));
    }

    [Fact]
    public async Task ClosesByReasonReopensRatingsAndOpenChatsAreMeasured()
    {
        var (visitorId, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        using var commercial = fixture.ClientFor(Roles.Commercial);
        using (var created = await commercial.PutChatAsync(chatId, ChatRequests.MinimalBody(visitorId)))
        {
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }
        using var visitor = fixture.ClientFor(Roles.Visitor, visitorId);
        foreach (var (action, body, status) in new[] { ("close", "{}", HttpStatusCode.OK), ("rating", """{"rating":4}""", HttpStatusCode.Created), ("reopen", "{}", HttpStatusCode.OK) })
        {
            using var response = await visitor.PostAsync(new Uri($"/v2/chats/{chatId}/{action}", UriKind.Relative),
                new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(status, response.StatusCode);
        }

        var scrape = await OperatorClient.WaitForAsync(ScrapeAsync,
            s => Samples(s, "chatgrains_chats_closed_total").Any(l => l.Contains("reason=\"VISITOR\"", StringComparison.Ordinal) && Value(l) >= 1)
                 && Samples(s, "chatgrains_chats_reopened_total").Sum(Value) >= 1
                 && Samples(s, "chatgrains_chats_rating_bucket").Any(l => l.Contains("le=\"4\"", StringComparison.Ordinal) && Value(l) >= 1),
            TimeSpan.FromSeconds(20), s => s);

        Assert.Contains("# TYPE chatgrains_chats_closed_total counter", scrape, StringComparison.Ordinal);
        Assert.Contains("# TYPE chatgrains_chats_rating histogram", scrape, StringComparison.Ordinal);
        // The reopened chat's grain is active on this node, open again.
        Assert.True(Samples(scrape, "chatgrains_chats_open_active").Sum(Value) >= 1, string.Join("\n", Samples(scrape, "chatgrains_chats_open_active")));
    }

    [Fact]
    public async Task TheScrapeCarriesTheRuntimeAndOrleansMeters()
    {
        var scrape = await ScrapeAsync();

        Assert.Contains("# TYPE dotnet_", scrape, StringComparison.Ordinal);
        Assert.Contains("# TYPE orleans_", scrape, StringComparison.Ordinal);
    }
}
