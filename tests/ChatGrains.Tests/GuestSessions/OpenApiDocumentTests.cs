using ChatGrains.Tests.Infrastructure;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ChatGrains.Tests.Chats;

namespace ChatGrains.Tests.GuestSessions;

// The document covers every API; its guest-session part is issue 3's, the rest issue 4's.

public sealed class OpenApiDocumentTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    [Fact]
    public async Task TheDocumentDescribesTheGuestSessionResourceAndEveryOutcome()
    {
        var document = (await fixture.Node.Client.GetFromJsonAsync<JsonObject>(new Uri("/openapi/v1.json", UriKind.Relative)))!;

        var resource = document["components"]!["schemas"]!["ChatSessionResource"]!.AsObject();
        Assert.False(string.IsNullOrWhiteSpace((string?)resource["description"]));
        Assert.Equal(
            ["created_at", "guest_email", "guest_name", "guest_phone", "id", "session_id", "status", "updated_at"],
            resource["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        var post = document["paths"]!["/api/v1/chat/guest/session"]!["post"]!;
        Assert.NotNull(post["requestBody"]);
        Assert.Equal(
            ["200", "201", "400", "413", "415", "429", "500", "503"],
            post["responses"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TheDocumentSaysASessionIdIsAUuidGivenBackInLowerCase()
    {
        var document = (await fixture.Node.Client.GetFromJsonAsync<JsonObject>(new Uri("/openapi/v1.json", UriKind.Relative)))!;

        var sessionId = document["components"]!["schemas"]!["GuestSessionRequest"]!["properties"]!["session_id"]!;
        var description = (string?)sessionId["description"];
        Assert.NotNull(description);
        Assert.Contains("UUID", description, StringComparison.Ordinal);
        Assert.Contains("lower case", description, StringComparison.Ordinal);
        // Request strings bind through a lenient converter; the schema still says string.
        Assert.Equal(["null", "string"], sessionId["type"]!.AsArray().Select(t => (string?)t));
        Assert.Equal("string", (string?)document["components"]!["schemas"]!["ChatSessionResource"]!["properties"]!["session_id"]!["type"]);
    }

    [Fact]
    public async Task TheDocumentSaysWhereTheHubAndItsProtocolAre()
    {
        var document = (await fixture.Node.Client.GetFromJsonAsync<JsonObject>(new Uri("/openapi/v1.json", UriKind.Relative)))!;

        var description = (string?)document["info"]!["description"];
        Assert.Contains("/hubs/livechat", description, StringComparison.Ordinal);
        Assert.Contains("Real-time conversations", description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDocumentCoversEveryEndpointWithItsErrorBodies()
    {
        var document = (await fixture.Node.Client.GetFromJsonAsync<JsonObject>(new Uri("/openapi/v1.json", UriKind.Relative)))!;

        Assert.StartsWith("3.", (string)document["openapi"]!, StringComparison.Ordinal);
        var paths = document["paths"]!.AsObject();
        Assert.Equal(
            // The operators' routes (the Orleans dashboard, its sign-in, /metrics) are not part of the API.
            ["/.well-known/jwks.json", "/api/v1/chat/guest/session", "/livechat/session", "/v2/chats/{chatId}",
                "/v2/chats/{chatId}/close", "/v2/chats/{chatId}/rating", "/v2/chats/{chatId}/reopen", "/v2/chats/{chatId}/transcript",
                "/v2/commercials/{commercialId}/chats", "/v2/events", "/v2/webhooks", "/v2/webhooks/{webhookId}",
                "/v2/webhooks/{webhookId}/deliveries", "/v2/webhooks/{webhookId}/deliveries/{eventId}/redeliver",
                "/v2/webhooks/{webhookId}/rotate-secret", "/v2/webhooks/{webhookId}/test"],
            paths.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["200", "400", "401", "403", "500", "503"],
            paths["/v2/events"]!["get"]!["responses"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["201", "400", "401", "403", "404", "500", "503"],
            paths["/v2/webhooks"]!["post"]!["responses"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal));
        var liveChat = paths["/livechat/session"]!["post"]!;
        Assert.Equal("#/components/schemas/LiveChatSessionRequest", (string?)liveChat["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]);
        Assert.Equal("#/components/schemas/LiveChatValidationErrors", (string?)liveChat["responses"]!["422"]!["content"]!["application/json"]!["schema"]!["$ref"]);
        Assert.NotNull(liveChat["responses"]!["201"]);
        Assert.Equal(["200", "400", "401", "403", "404", "500", "503"],
            paths["/v2/chats/{chatId}"]!["get"]!["responses"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal));
        var chats = paths["/v2/chats/{chatId}"]!["put"]!;
        Assert.Equal(["200", "400", "401", "403", "409", "413", "415", "429", "500", "503"], chats["responses"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["200", "400", "401", "403", "404", "409", "413", "415", "500", "503"],
            paths["/v2/chats/{chatId}/close"]!["post"]!["responses"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["201", "400", "401", "403", "404", "409", "413", "415", "500", "503"],
            paths["/v2/chats/{chatId}/rating"]!["post"]!["responses"]!.AsObject().Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.Equal("bearer", (string?)document["components"]!["securitySchemes"]!["Bearer"]!["scheme"]);
        Assert.True(chats["security"]![0]!.AsObject().ContainsKey("Bearer"));
        Assert.Null(liveChat["security"]);
    }

    [Fact]
    public async Task SwaggerUiIsServedWithoutExternalAssets()
    {
        var html = await fixture.Node.Client.GetStringAsync(new Uri("/swagger/index.html", UriKind.Relative));

        Assert.Contains("swagger-ui", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
    }
}
