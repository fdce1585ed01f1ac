using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ChatGrains.Tests.Chats;

/// <summary>The spec's request bodies, and a PUT that sends them.</summary>
public static class ChatRequests
{
    /// <summary>The commercials the spec's bodies name (a visitor's token may name them once they signed in).</summary>
    public static readonly Guid[] Commercials = [Guid.Parse("550e8400-e29b-4b5b-9cb4-123456789001"), Guid.Parse("550e8400-e29b-4b5b-9cb4-123456789002")];

    /// <summary>The spec's full request body ("Request Body").</summary>
    public static JsonObject FullBody(Guid visitorId) => new()
    {
        ["visitorId"] = visitorId.ToString(),
        ["visitorInfo"] = new JsonObject
        {
            ["name"] = "Juan Pérez",
            ["email"] = "juan.perez@example.com",
            ["phone"] = "+34123456789",
            ["company"] = "Acme Corp",
            ["ipAddress"] = "192.168.1.100",
            ["location"] = new JsonObject { ["country"] = "España", ["city"] = "Madrid" },
            ["referrer"] = "https://google.com",
            ["userAgent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        },
        ["availableCommercialIds"] = new JsonArray("550e8400-e29b-4b5b-9cb4-123456789001", "550e8400-e29b-4b5b-9cb4-123456789002"),
        ["priority"] = "NORMAL",
        ["metadata"] = new JsonObject
        {
            ["department"] = "ventas",
            ["product"] = "Plan Premium",
            ["source"] = "web",
            ["tags"] = new JsonArray("nuevo-cliente", "interesado"),
            ["campaign"] = "Black Friday 2024",
            ["utmSource"] = "google",
            ["utmMedium"] = "cpc",
            ["utmCampaign"] = "summer_sale",
            ["customFields"] = new JsonObject { ["leadScore"] = 85, ["segment"] = "enterprise" },
        },
    };

    /// <summary>The spec's "Campos Mínimos Requeridos".</summary>
    public static JsonObject MinimalBody(Guid visitorId) => new()
    {
        ["visitorId"] = visitorId.ToString(),
        ["visitorInfo"] = new JsonObject { ["name"] = "Ana García", ["email"] = "ana.garcia@example.com" },
        ["availableCommercialIds"] = new JsonArray("550e8400-e29b-4b5b-9cb4-123456789001"),
    };

    public static Task<HttpResponseMessage> PutChatAsync(this HttpClient client, Guid chatId, JsonNode body) =>
        client.PutChatAsync(chatId.ToString(), body.ToJsonString());

    public static Task<HttpResponseMessage> PutChatAsync(this HttpClient client, string chatId, string body, string contentType = "application/json") =>
        client.PutAsync(new Uri($"/v2/chats/{chatId}", UriKind.Relative), new StringContent(body, Encoding.UTF8, contentType));

    /// <summary>A PUT that a trusted proxy forwarded for <paramref name="forwardedFor"/>.</summary>
    public static Task<HttpResponseMessage> PutChatAsync(this HttpClient client, Guid chatId, JsonNode body, string forwardedFor)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, new Uri($"/v2/chats/{chatId}", UriKind.Relative))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Forwarded-For", forwardedFor);
        return client.SendAsync(request);
    }

    public static async Task<JsonObject> JsonAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonObject>())!;

    /// <summary>The errors map of a validation problem.</summary>
    public static async Task<JsonObject> ErrorsAsync(this HttpResponseMessage response)
    {
        var body = await response.JsonAsync();
        return body["errors"]?.AsObject() ?? throw new InvalidOperationException($"No errors map in {body.ToJsonString()}");
    }

    public static string Canonical(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
}
