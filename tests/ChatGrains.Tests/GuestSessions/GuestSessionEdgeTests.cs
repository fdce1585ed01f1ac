using ChatGrains.Grains;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatGrains.Tests.GuestSessions;

/// <summary>Rate limiting on a single node, logging, 500s and metrics: each test owns its node.</summary>
public sealed class GuestSessionEdgeTests
{
    private static Dictionary<string, string?> Limit(int permits, string? knownProxy = null) => new()
    {
        ["RateLimiting:PermitsPerMinute"] = permits.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ForwardedHeaders:KnownProxies:0"] = knownProxy,
    };

    [Fact]
    public async Task PastTheLimitRequestsAreAnswered429WithRetryAfterAndNothingIsWritten()
    {
        await using var node = await TestNode.StartOnSqliteAsync(Limit(3));
        var firstAdmitted = DateTimeOffset.UtcNow;
        for (var i = 0; i < 3; i++)
        {
            using var admitted = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() });
            Assert.Equal(HttpStatusCode.Created, admitted.StatusCode);
            // A sliding minute: the next permit comes back when the first request leaves the window,
            // so t counts down from 60 with the seconds that have passed since that request.
            var item = admitted.Headers.GetValues("RateLimit").Single();
            Assert.StartsWith($"\"per-client\";r={2 - i};t=", item, StringComparison.Ordinal);
            var elapsed = (int)Math.Ceiling((DateTimeOffset.UtcNow - firstAdmitted).TotalSeconds);
            Assert.InRange(int.Parse(item[(item.LastIndexOf('=') + 1)..], System.Globalization.CultureInfo.InvariantCulture), 60 - elapsed, 60);
            if (i == 0)
            {
                Assert.EndsWith(";t=60", item, StringComparison.Ordinal);
            }
        }
        var refusedId = GuestSessionRequests.NewSessionId();

        using var refused = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = refusedId });

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var envelope = await refused.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, refused, success: false);
        Assert.Equal("RATE_LIMIT_EXCEEDED", (string?)envelope["error"]!["code"]);
        Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 55, 60);
        Assert.Equal("\"per-client\";q=3;w=60", refused.Headers.GetValues("RateLimit-Policy").Single());
        Assert.StartsWith("\"per-client\";r=0;", refused.Headers.GetValues("RateLimit").Single(), StringComparison.Ordinal);
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, refusedId));
    }

    [Fact]
    public async Task ASpoofedForwardedForFromAnUntrustedPeerDoesNotEscapeTheLimit()
    {
        await using var node = await TestNode.StartOnSqliteAsync(Limit(3));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await node.Client.PostSessionAsync(
                new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() }.ToJsonString(), forwardedFor: $"203.0.113.{i + 1}");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task ForwardedForFromAKnownProxyNamesTheClient()
    {
        await using var node = await TestNode.StartOnSqliteAsync(Limit(1, knownProxy: "127.0.0.1"));

        using var first = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() }.ToJsonString(), forwardedFor: "203.0.113.1");
        using var second = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() }.ToJsonString(), forwardedFor: "203.0.113.2");
        using var again = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() }.ToJsonString(), forwardedFor: "203.0.113.1");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
    }

    [Fact]
    public async Task NoGuestNameEmailOrPhoneReachesAnyLogLine()
    {
        var capture = new LogCapture();
        await using var node = await TestNode.StartOnSqliteAsync(
            new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace", ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace" },
            builder =>
            {
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(capture);
            });
        const string name = "Zaphod Pii-Name";
        const string email = "zaphod.pii@example.com";
        const string phone = "+62 811-0000-4242";
        var sessionId = GuestSessionRequests.NewSessionId();
        var body = new JsonObject { ["session_id"] = sessionId, ["guest_name"] = name, ["guest_email"] = email, ["guest_phone"] = phone };

        // Each path that could log a guest's data taken, as its answer shows: created, replayed,
        // refused field by field, refused as a wrong type, refused as no JSON.
        async Task SentAsync(Task<HttpResponseMessage> sending, HttpStatusCode expected)
        {
            using var response = await sending;
            Assert.Equal(expected, response.StatusCode);
        }
        await SentAsync(node.Client.PostSessionAsync(body), HttpStatusCode.Created);
        await SentAsync(node.Client.PostSessionAsync(body), HttpStatusCode.OK);
        await SentAsync(node.Client.PostSessionAsync(new JsonObject { ["session_id"] = "x", ["guest_name"] = name, ["guest_email"] = "zaphod.pii@", ["guest_phone"] = phone }), HttpStatusCode.BadRequest);
        await SentAsync(node.Client.PostSessionAsync($$"""{"session_id":"{{sessionId}}","guest_name":"{{name}}","guest_email":"{{email}}","guest_phone":42}"""), HttpStatusCode.BadRequest);
        await SentAsync(node.Client.PostSessionAsync(body.ToJsonString(), "text/plain"), HttpStatusCode.UnsupportedMediaType);

        Assert.True(capture.Lines.Count > 10, $"only {capture.Lines.Count} lines captured: logging at Trace was not on");
        foreach (var secret in new[] { "Zaphod", "zaphod.pii", "0000-4242" })
        {
            Assert.DoesNotContain(capture.Lines, line => line.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task AnInternalErrorIsAnswered500WithoutInternals()
    {
        await using var node = await TestNode.StartOnSqliteAsync();
        await node.Database.ExecuteAsync("ALTER TABLE OrleansStorage RENAME TO OrleansStorage_gone");

        using var response = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() });

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: false);
        Assert.Equal("INTERNAL_ERROR", (string?)envelope["error"]!["code"]);
        var text = envelope.ToJsonString();
        foreach (var leak in new[] { "Sqlite", "Exception", "OrleansStorage", "SELECT", "INSERT", " at " })
        {
            Assert.DoesNotContain(leak, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task LatencyAndStatusAreRecordedPerEndpoint()
    {
        var recorded = new System.Collections.Concurrent.ConcurrentBag<(string? Route, int Status)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument is { Meter.Name: "Microsoft.AspNetCore.Hosting", Name: "http.server.request.duration" })
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        // The listener hears every host in this process; only this node's meters count.
        IMeterFactory? ours = null;
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            if (instrument.Meter.Scope is null || instrument.Meter.Scope != Volatile.Read(ref ours))
            {
                return;
            }
            string? route = null;
            var status = 0;
            foreach (var tag in tags)
            {
                if (tag.Key == "http.route") route = tag.Value as string;
                if (tag.Key == "http.response.status_code") status = Convert.ToInt32(tag.Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            recorded.Add((route, status));
        });
        listener.Start();
        await using var node = await TestNode.StartOnSqliteAsync();
        Volatile.Write(ref ours, node.Services.GetRequiredService<IMeterFactory>());

        using (await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() })) { }
        using (await node.Client.PostSessionAsync("""{"session_id":"x"}""")) { }

        Assert.Contains(recorded, m => m is { Route: "/api/v1/chat/guest/session", Status: 201 });
        Assert.Contains(recorded, m => m is { Route: "/api/v1/chat/guest/session", Status: 400 });
    }
}
