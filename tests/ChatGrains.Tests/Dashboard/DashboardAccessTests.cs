using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Dashboard;

public sealed class DashboardAccessTests
{
    private static readonly Uri Overview = new("/dashboard/api/overview", UriKind.Relative);

    private static async Task<HttpStatusCode> StatusAsync(TestNode node, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Overview);
        request.Headers.Authorization = authorization;
        using var response = await node.Client.SendAsync(request);
        return response.StatusCode;
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    [Fact]
    public async Task WithoutABasicCredentialConfiguredLoopbackGetsInAndTokensAreChecked()
    {
        await using var node = await TestNode.StartOnSqliteAsync();

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node, null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node, new("Bearer", node.Token("admin", Guid.NewGuid()))));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(node, new("Bearer", node.Token("commercial", Guid.NewGuid()))));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node, new("Bearer", "not-a-token")));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node, Basic("ops", "guess")));
    }

    [Fact]
    public async Task WithABasicCredentialConfiguredEveryoneNeedsCredentials()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
        {
            ["Dashboard:Username"] = "ops",
            ["Dashboard:Password"] = "s3cret",
        });

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(node, Basic("ops", "wrong")));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node, Basic("ops", "s3cret")));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(node, new("Bearer", node.Token("admin", Guid.NewGuid()))));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(node, new("Bearer", node.Token("visitor", Guid.NewGuid()))));
    }

    [Fact]
    public async Task ASingleSqliteNodeListsItselfAndItsGrains()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["Cluster:HeartbeatInterval"] = "00:00:01" });
        using (await node.Client.PostAsJsonAsync(new Uri("/api/v1/chat/guest/session", UriKind.Relative), new { session_id = Guid.NewGuid().ToString() })) { }

        JsonObject overview;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            overview = (await node.Client.GetFromJsonAsync<JsonObject>(Overview))!;
            if (overview["nodes"]!.AsArray().Count == 1)
            {
                break;
            }
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        var grains = (await node.Client.GetFromJsonAsync<JsonArray>(new Uri("/dashboard/api/grains", UriKind.Relative)))!;

        var self = Assert.Single(overview["nodes"]!.AsArray())!;
        Assert.Equal("alive", (string?)self["status"]);
        Assert.Equal(node.BaseAddress.ToString().TrimEnd('/'), (string?)self["url"]);
        Assert.Equal(1, (long?)grains.Single(g => (string?)g!["kind"] == "guestSessions")!["total"]);
    }
}
