using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace ChatGrains.Tests.GuestSessions;

public static class GuestSessionRequests
{
    public static readonly Uri Path = new("/api/v1/chat/guest/session", UriKind.Relative);

    public static string NewSessionId() => Guid.NewGuid().ToString();

    public static Task<HttpResponseMessage> PostSessionAsync(this HttpClient client, JsonNode body) =>
        client.PostSessionAsync(body.ToJsonString());

    public static Task<HttpResponseMessage> PostSessionAsync(this HttpClient client, string body, string contentType = "application/json", string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }
        return client.SendAsync(request);
    }

    public static async Task<JsonObject> EnvelopeAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>The envelope's fixed shape, success or not.</summary>
    public static void AssertEnvelope(JsonObject envelope, HttpResponseMessage response, bool success)
    {
        Assert.Equal(success, (bool?)envelope["success"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)envelope["message"]));
        Assert.True(envelope.ContainsKey("meta"));
        Assert.Null(envelope["meta"]);
        var traceId = (string)envelope["trace_id"]!;
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        Assert.Equal(traceId, response.Headers.GetValues("X-Trace-Id").Single());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", (string)envelope["timestamp"]!);
        if (!success)
        {
            Assert.Null(envelope["data"]);
        }
    }
}
