using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace ChatGrains.Tests.RateLimiting;

/// <summary>
/// One IPv6 subscriber holds a whole /64: the per-client limits count its network, not each
/// address (the reported attack: ::1, ::2, ::3 of one /64 each got r=59). The node sees the
/// client through X-Forwarded-For from its trusted proxy, 127.0.0.1.
/// </summary>
public sealed class IPv6RateLimitTests
{
    private static Dictionary<string, string?> Settings(string? prefixLength = null) => new()
    {
        ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
        ["RateLimiting:PermitsPerMinute"] = "60",
        ["RateLimiting:IPv6PrefixLength"] = prefixLength,
    };

    private static async Task<string> RemainingAfterSessionFromAsync(TestNode node, string client)
    {
        using var response = await node.Client.PostSessionAsync(
            new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() }.ToJsonString(), forwardedFor: client);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return response.Headers.GetValues("RateLimit").Single().Split(';')[1];
    }

    [Fact]
    public async Task AddressesOfOneSlash64ShareOneBudgetAndAnotherSlash64HasItsOwn()
    {
        await using var node = await TestNode.StartOnSqliteAsync(Settings());

        Assert.Equal("r=59", await RemainingAfterSessionFromAsync(node, "2001:db8:1:1::1"));
        Assert.Equal("r=58", await RemainingAfterSessionFromAsync(node, "2001:db8:1:1::2"));
        Assert.Equal("r=57", await RemainingAfterSessionFromAsync(node, "2001:db8:1:1::3"));
        Assert.Equal("r=56", await RemainingAfterSessionFromAsync(node, "2001:db8:1:1:ffff:ffff:ffff:ffff"));
        Assert.Equal("r=59", await RemainingAfterSessionFromAsync(node, "2001:db8:1:2::1"));
    }

    [Fact]
    public async Task AnIPv4MappedAddressIsTheIPv4Client()
    {
        await using var node = await TestNode.StartOnSqliteAsync(Settings());

        Assert.Equal("r=59", await RemainingAfterSessionFromAsync(node, "198.51.100.7"));
        Assert.Equal("r=58", await RemainingAfterSessionFromAsync(node, "::ffff:198.51.100.7"));
        Assert.Equal("r=59", await RemainingAfterSessionFromAsync(node, "198.51.100.8"));
    }

    [Fact]
    public async Task ThePrefixLengthIsConfigurable()
    {
        await using var node = await TestNode.StartOnSqliteAsync(Settings(prefixLength: "48"));

        Assert.Equal("r=59", await RemainingAfterSessionFromAsync(node, "2001:db8:1:1::1"));
        Assert.Equal("r=58", await RemainingAfterSessionFromAsync(node, "2001:db8:1:2::1"));
        Assert.Equal("r=59", await RemainingAfterSessionFromAsync(node, "2001:db8:2:1::1"));
    }

    [Theory]
    [InlineData("16")]
    [InlineData("129")]
    public async Task AnImplausiblePrefixLengthStopsTheNodeAtStartNamingTheSetting(string prefixLength)
    {
        var exception = await Assert.ThrowsAnyAsync<OptionsValidationException>(() => TestNode.StartOnSqliteAsync(Settings(prefixLength)));

        Assert.Contains("RateLimiting:IPv6PrefixLength", exception.Message, StringComparison.Ordinal);
    }
}
