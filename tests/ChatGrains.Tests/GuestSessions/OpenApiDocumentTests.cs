using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ChatGrains.Tests.Chats;

namespace ChatGrains.Tests.GuestSessions;

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
}
