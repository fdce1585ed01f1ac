using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Http;

/// <summary>
/// An incoming <c>traceparent</c> is believed only from a proxy in <c>ForwardedHeaders:KnownProxies</c>.
/// The test client is on 127.0.0.1: a node listing 127.0.0.1 sees it as the proxy, any other node as a client.
/// </summary>
public sealed class TraceIdTests
{
    private static readonly Dictionary<string, string?> BehindTheTestClient = new() { ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" };

    [Fact]
    public async Task AClientCannotChooseTheTraceIdOfItsRequest()
    {
        await using var node = await TestNode.StartOnSqliteAsync();
        var (traceId, traceparent) = NewTraceparent();

        using var response = await PostWithTraceparentAsync(node, traceparent);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: true);
        Assert.NotEqual(traceId, (string?)envelope["trace_id"]);
    }

    [Fact]
    public async Task AClientCannotMakeIts500CarryAnotherRequestsTraceId()
    {
        await using var node = await TestNode.StartOnSqliteAsync();
        await node.Database.ExecuteAsync("ALTER TABLE OrleansStorage RENAME TO OrleansStorage_gone");
        var (traceId, traceparent) = NewTraceparent();

        using var response = await PostWithTraceparentAsync(node, traceparent);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: false);
        Assert.Equal("INTERNAL_ERROR", (string?)envelope["error"]!["code"]);
        Assert.NotEqual(traceId, (string?)envelope["trace_id"]);
    }

    [Fact]
    public async Task EachUntrustedRequestStartsATraceOfItsOwn()
    {
        await using var node = await TestNode.StartOnSqliteAsync();
        var (_, traceparent) = NewTraceparent();

        using var first = await PostWithTraceparentAsync(node, traceparent);
        using var second = await PostWithTraceparentAsync(node, traceparent);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.NotEqual(first.Headers.GetValues("X-Trace-Id").Single(), second.Headers.GetValues("X-Trace-Id").Single());
    }

    [Fact]
    public async Task AKnownProxysTraceparentBecomesTheTraceId()
    {
        await using var node = await TestNode.StartOnSqliteAsync(BehindTheTestClient);
        var (traceId, traceparent) = NewTraceparent();

        using var response = await PostWithTraceparentAsync(node, traceparent);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var envelope = await response.EnvelopeAsync();
        GuestSessionRequests.AssertEnvelope(envelope, response, success: true);
        Assert.Equal(traceId, (string?)envelope["trace_id"]);
        Assert.Equal(traceId, response.Headers.GetValues("X-Trace-Id").Single());
    }

    [Fact]
    public async Task AKnownProxysTraceparentAlsoNamesA500()
    {
        await using var node = await TestNode.StartOnSqliteAsync(BehindTheTestClient);
        await node.Database.ExecuteAsync("ALTER TABLE OrleansStorage RENAME TO OrleansStorage_gone");
        var (traceId, traceparent) = NewTraceparent();

        using var response = await PostWithTraceparentAsync(node, traceparent);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal(traceId, (string?)(await response.EnvelopeAsync())["trace_id"]);
        Assert.Equal(traceId, response.Headers.GetValues("X-Trace-Id").Single());
    }

    /// <summary>A fresh W3C <c>traceparent</c> (version 00, sampled) and its trace id.</summary>
    private static (string TraceId, string Traceparent) NewTraceparent()
    {
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        return (traceId, $"00-{traceId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01");
    }

    private static async Task<HttpResponseMessage> PostWithTraceparentAsync(TestNode node, string traceparent)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, GuestSessionRequests.Path)
        {
            Content = new StringContent(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", traceparent);
        return await node.Client.SendAsync(request);
    }
}
