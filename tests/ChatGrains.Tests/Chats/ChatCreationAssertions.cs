using System.Globalization;
using System.Net;

namespace ChatGrains.Tests.Chats;

/// <summary>What a refused chat creation looks like on the wire: an RFC 9457 problem, with the draft rate-limit headers.</summary>
internal static class ChatCreationAssertions
{
    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string title)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.JsonAsync();
        Assert.Equal((int)status, (int?)problem["status"]);
        Assert.Equal(title, (string?)problem["title"]);
    }

    public static async Task AssertTooManyAsync(HttpResponseMessage response)
    {
        await AssertProblemAsync(response, HttpStatusCode.TooManyRequests, "Too many chats created by this client; retry later.");
        var seconds = int.Parse(Assert.Single(response.Headers.GetValues("Retry-After")), NumberStyles.None, CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, 60);
        Assert.True(response.Headers.Contains("RateLimit-Policy"));
    }

    /// <summary>The <c>RateLimit</c> item of one policy, e.g. <c>"per-visitor";r=0;t=60</c> → <c>r=0</c>.</summary>
    public static string Remaining(HttpResponseMessage response, string policy) =>
        Assert.Single(response.Headers.GetValues("RateLimit").Single().Split(", "), item => item.StartsWith($"\"{policy}\";", StringComparison.Ordinal))
            .Split(';')[1];
}
