using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Conversations;

/// <summary>Opening chats and connecting their participants, as a test scenario needs them.</summary>
public static class Conversation
{
    /// <summary>Creates a chat through <c>PUT /v2/chats</c> for the visitor, offered to the commercials; returns the response body.</summary>
    public static async Task<JsonObject> OpenChatAsync(TestNode node, Guid chatId, Guid visitorId, params Guid[] commercials)
    {
        await SignInAsync(node, commercials);
        var body = ChatRequests.MinimalBody(visitorId);
        body["availableCommercialIds"] = new JsonArray([.. commercials.Select(id => (JsonNode)id.ToString())]);
        using var client = node.ClientFor(Roles.Visitor, visitorId);
        using var response = await client.PutChatAsync(chatId, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>The chat as <c>PUT /v2/chats</c> returns it now (a replay).</summary>
    public static async Task<JsonObject> ReplayAsync(TestNode node, Guid chatId, Guid visitorId)
    {
        using var client = node.ClientFor(Roles.Visitor, visitorId);
        using var response = await client.PutChatAsync(chatId, ChatRequests.MinimalBody(visitorId));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>
    /// Connects each commercial to the hub once, as signing in at <c>/agent</c> does: from then on
    /// a visitor's token may offer it chats.
    /// </summary>
    public static async Task SignInAsync(TestNode node, params Guid[] commercials)
    {
        foreach (var commercial in commercials)
        {
            await SignInAsync(node.BaseAddress, node.Token(Roles.Commercial, commercial));
        }
    }

    /// <summary>Connects once with the commercial's token; returns once the hub has taken the connection in.</summary>
    public static async Task SignInAsync(Uri node, string commercialToken)
    {
        await using var hub = await HubClient.ConnectAsync(node, commercialToken);
    }

    public static Task<HubClient> VisitorAsync(TestNode node, Guid visitorId) => HubClient.ConnectAsync(node, node.Token(Roles.Visitor, visitorId));

    public static Task<HubClient> CommercialAsync(TestNode node, Guid commercialId) => HubClient.ConnectAsync(node, node.Token(Roles.Commercial, commercialId));

    public static Task<JsonElement> SendAsync(this HubClient client, Guid chatId, string text, Guid? clientMessageId = null) =>
        client.InvokeAsync<JsonElement>("SendMessage", chatId.ToString(), (clientMessageId ?? Guid.NewGuid()).ToString(), text);

    public static Task<JsonElement> AcceptAsync(this HubClient client, Guid chatId) =>
        client.InvokeAsync<JsonElement>("AcceptChat", chatId.ToString());

    public static Task<JsonElement> JoinAsync(this HubClient client, Guid chatId, long afterSeq = 0) =>
        client.InvokeAsync<JsonElement>("JoinChat", chatId.ToString(), afterSeq);

    public static Guid ChatId(this JsonElement payload) => payload.GetProperty(payload.TryGetProperty("chatId", out _) ? "chatId" : "id").GetGuid();

    public static long Seq(this JsonElement message) => message.GetProperty("seq").GetInt64();

    /// <summary>True when the payload equals the JSON object (same members, same values).</summary>
    public static bool SameJson(JsonElement payload, JsonNode expected) =>
        JsonNode.DeepEquals(JsonNode.Parse(payload.GetRawText()), expected);
}
