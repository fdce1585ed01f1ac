using System.Net;
using ChatGrains.Grains;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace ChatGrains.Tests.Grains;

/// <summary>
/// Neither the Orleans grain serializer nor the JSON grain-storage serializer carries an unpaired
/// UTF-16 surrogate intact (UTF-8 cannot encode one), which is why the API rejects it before any
/// grain call: the same input that reaches them here never gets past the edge.
/// </summary>
public sealed class UnpairedSurrogateSerializationTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private static readonly Visitor Hostile = new("Juan\ud800", "juan@example.com");

    [Fact]
    public void TheGrainSerializerDoesNotRoundTripAnUnpairedSurrogate()
    {
        var serializer = fixture.Node.Services.GetRequiredService<Serializer>();

        Assert.False(RoundTrips(() => serializer.Deserialize<Visitor>(serializer.SerializeToArray(Hostile))));
    }

    [Fact]
    public void TheStorageSerializerDoesNotRoundTripAnUnpairedSurrogate()
    {
        var serializer = fixture.Node.Services.GetRequiredService<IGrainStorageSerializer>();

        Assert.False(RoundTrips(() => serializer.Deserialize<Visitor>(serializer.Serialize(Hostile))));
    }

    [Fact]
    public async Task TheSameInputNeverReachesAGrain()
    {
        var chatId = Guid.NewGuid();
        var body = ChatRequests.MinimalBody(Guid.NewGuid());
        body["visitorInfo"]!["name"] = "@name@";
        using var client = fixture.Node.ClientFor(Roles.Admin);

        using var response = await client.PutChatAsync(chatId.ToString(), body.ToJsonString().Replace("@name@", @"Juan\ud800", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ErrorsAsync()).ContainsKey("visitorInfo.name"));
        Assert.Equal(0, await fixture.Node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
        Assert.Empty(await fixture.Node.Database.ChatEventTypesAsync(chatId));
    }

    private static bool RoundTrips(Func<Visitor?> roundTrip)
    {
        try
        {
            return string.Equals(roundTrip()?.Name, Hostile.Name, StringComparison.Ordinal);
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.Text.Json.JsonException or FormatException)
        {
            return false;
        }
    }
}
