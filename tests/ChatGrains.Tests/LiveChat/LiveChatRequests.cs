using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace ChatGrains.Tests.LiveChat;

public static class LiveChatRequests
{
    public static readonly Uri Path = new("/livechat/session", UriKind.Relative);

    public static JsonObject Budi() => new() { ["name"] = "Budi", ["city"] = "Solo", ["country"] = "Indonesia" };

    public static Task<HttpResponseMessage> PostLiveChatAsync(this HttpClient client, JsonNode body, string? acceptLanguage = null) =>
        client.PostLiveChatAsync(body.ToJsonString(), acceptLanguage: acceptLanguage);

    public static Task<HttpResponseMessage> PostLiveChatAsync(this HttpClient client, string body, string contentType = "application/json", string? acceptLanguage = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (acceptLanguage is not null)
        {
            request.Headers.Add("Accept-Language", acceptLanguage);
        }
        return client.SendAsync(request);
    }

    public static async Task<JsonObject> BodyAsync(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonObject>())!;
}
