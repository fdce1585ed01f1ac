using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace ChatGrains.Tests.LiveChat;

/// <summary><c>GET /livechat/config</c>: the commercials the live-chat page offers its chats to (<c>LiveChat:CommercialIds</c>).</summary>
public sealed class LiveChatPageConfigTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private static readonly Uri Config = new("/livechat/config", UriKind.Relative);

    [Fact]
    public async Task WithoutConfigurationThePageIsToldThereIsNobodyToOfferTo()
    {
        using var response = await fixture.Node.Client.GetAsync(Config);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"commercialIds":[],"captcha":null}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheConfiguredCommercialsAreGivenInLowerCaseAndInOrder()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
        {
            ["LiveChat:CommercialIds:0"] = "550E8400-E29B-4B5B-9CB4-123456789001",
            ["LiveChat:CommercialIds:1"] = "550e8400-e29b-4b5b-9cb4-123456789000",
        });

        var body = await node.Client.GetFromJsonAsync<JsonObject>(Config);

        Assert.Equal(
            ["550e8400-e29b-4b5b-9cb4-123456789001", "550e8400-e29b-4b5b-9cb4-123456789000"],
            body!["commercialIds"]!.AsArray().Select(id => (string?)id));
    }

    [Theory]
    [InlineData("not-a-uuid", "550e8400-e29b-4b5b-9cb4-123456789000")]
    [InlineData("550e8400-e29b-4b5b-9cb4-123456789000", "550E8400-E29B-4B5B-9CB4-123456789000")]
    public async Task AMalformedOrRepeatedIdStopsTheNodeAtStartNamingTheSetting(string first, string second)
    {
        var exception = await Assert.ThrowsAnyAsync<OptionsValidationException>(() => TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
        {
            ["LiveChat:CommercialIds:0"] = first,
            ["LiveChat:CommercialIds:1"] = second,
        }));

        Assert.Contains("LiveChat:CommercialIds", exception.Message, StringComparison.Ordinal);
    }
}
