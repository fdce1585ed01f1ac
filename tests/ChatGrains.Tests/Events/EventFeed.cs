using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Events;

/// <summary>Reading <c>GET /v2/events</c> as a consumer does: from a cursor, page by page.</summary>
public static class EventFeed
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static async Task<JsonObject> ReadAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync(new Uri($"/v2/events{query}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>The cursor after every event stored so far.</summary>
    public static async Task<string> EndAsync(HttpClient client)
    {
        var page = await ReadAsync(client, "?limit=500");
        while (page["events"]!.AsArray().Count == 500)
        {
            page = await ReadAsync(client, $"?limit=500&after={page["nextCursor"]}");
        }
        return (string)page["nextCursor"]!;
    }

    /// <summary>
    /// Reads on from <paramref name="cursor"/> (long polls of a second) until <paramref name="enough"/>
    /// holds for what arrived, or the patience runs out; answers everything read, in order.
    /// </summary>
    public static async Task<List<JsonObject>> ReadUntilAsync(
        HttpClient client, string cursor, Func<IReadOnlyList<JsonObject>, bool> enough, string query = "&limit=500")
    {
        var events = new List<JsonObject>();
        var deadline = DateTime.UtcNow + Patience;
        while (!enough(events) && DateTime.UtcNow < deadline)
        {
            var page = await ReadAsync(client, $"?after={cursor}&wait=1{query}");
            events.AddRange(page["events"]!.AsArray().Select(e => e!.AsObject()));
            cursor = (string)page["nextCursor"]!;
        }
        return events;
    }

    /// <summary>Reads until the chat has <paramref name="count"/> events; answers the chat's events.</summary>
    public static async Task<List<JsonObject>> ChatEventsAsync(TestNode node, string cursor, Guid chatId, int count)
    {
        using var admin = node.ClientFor(Roles.Admin);
        var events = await ReadUntilAsync(admin, cursor, read => read.Count(e => OfChat(e, chatId)) >= count);
        return [.. events.Where(e => OfChat(e, chatId))];
    }

    public static bool OfChat(JsonObject envelope, Guid chatId) => (Guid?)envelope["chatId"] == chatId;
}
