using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Chats;
using ChatGrains.Grains;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatGrains.Tests.Chats;

/// <summary>
/// Commercial ids are public (<c>GET /livechat/config</c>): a visitor's token may offer a chat only
/// to a known commercial — on duty (<c>LiveChat:CommercialIds</c>) or signed in before through the
/// hub — so it can neither bury a commercial's offers nor make records for made-up commercials.
/// Staff tokens may name any.
/// </summary>
public sealed class KnownCommercialTests
{
    private static readonly Guid OnDuty = Guid.NewGuid();

    private static Task<TestNode> StartAsync() =>
        TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["LiveChat:CommercialIds:0"] = OnDuty.ToString() });

    private static JsonObject Offering(Guid visitorId, IEnumerable<Guid> commercials)
    {
        var body = ChatRequests.MinimalBody(visitorId);
        body["availableCommercialIds"] = new JsonArray([.. commercials.Select(id => (JsonNode)id.ToString())]);
        return body;
    }

    [Fact]
    public async Task AVisitorNamingAnUnknownCommercialIs400OnAvailableCommercialIdsAndNothingIsWritten()
    {
        await using var node = await StartAsync();
        var visitorId = Guid.NewGuid();
        using var visitor = node.ClientFor(Roles.Visitor, visitorId);
        var chatId = Guid.NewGuid();
        // The on-duty commercial first: its offer must not be recorded either.
        var named = new[] { OnDuty }.Concat(Enumerable.Range(0, 99).Select(_ => Guid.NewGuid())).ToList();

        using var refused = await visitor.PutChatAsync(chatId, Offering(visitorId, named));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal([ChatsApi.UnknownCommercialMessage], (await refused.ErrorsAsync())["availableCommercialIds"]!.AsArray().Select(e => (string?)e));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Commercial));
        Assert.Equal(0, await node.Database.CountAsync("chat_offers"));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.Visitor));
        Assert.Equal(0, await node.Database.GrainRecordsAsync(GrainStorage.ClientAddress));
        Assert.Empty(await node.Database.ChatEventTypesAsync(chatId));
    }

    [Fact]
    public async Task ACommercialOnDutyAndOneThatSignedInBeforeMayBeOfferedAChatByAVisitor()
    {
        await using var node = await StartAsync();
        var signedIn = Guid.NewGuid();
        await Conversation.SignInAsync(node, signedIn);
        var visitorId = Guid.NewGuid();
        using var visitor = node.ClientFor(Roles.Visitor, visitorId);
        var (onDutyChat, signedInChat, bothChat) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        using var toOnDuty = await visitor.PutChatAsync(onDutyChat, Offering(visitorId, [OnDuty]));
        using var toSignedIn = await visitor.PutChatAsync(signedInChat, Offering(visitorId, [signedIn]));
        using var toBoth = await visitor.PutChatAsync(bothChat, Offering(visitorId, [OnDuty, signedIn]));

        Assert.Equal(HttpStatusCode.OK, toOnDuty.StatusCode);
        Assert.Equal(HttpStatusCode.OK, toSignedIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, toBoth.StatusCode);
        Assert.Equal([OnDuty.ToString(), signedIn.ToString()], (await toBoth.JsonAsync())["availableCommercialIds"]!.AsArray().Select(id => (string?)id));
        await using var agent = await Conversation.CommercialAsync(node, signedIn);
        var caughtUp = new[] { await agent.NextAsync("chatOffered"), await agent.NextAsync("chatOffered") };
        Assert.Equal(new[] { signedInChat, bothChat }.Order(), caughtUp.Select(offer => offer.ChatId()).Order());
    }

    [Theory]
    [InlineData(Roles.Commercial)]
    [InlineData(Roles.Admin)]
    public async Task AStaffTokenMayNameAnyCommercial(string role)
    {
        await using var node = await StartAsync();
        using var staff = node.ClientFor(role);
        var visitorId = Guid.NewGuid();
        var unknown = Guid.NewGuid();

        using var created = await staff.PutChatAsync(Guid.NewGuid(), Offering(visitorId, [unknown]));

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal([unknown.ToString()], (await created.JsonAsync())["availableCommercialIds"]!.AsArray().Select(id => (string?)id));
    }

    [Fact]
    public async Task AGenuinePendingOfferSurvivesFarMoreThanFiveHundredLaterOffers()
    {
        await using var node = await StartAsync();
        var commercial = node.Grains.GetGrain<ICommercialGrain>(OnDuty);
        var genuine = Guid.NewGuid();
        var command = new CreateChat(Guid.NewGuid(), new Visitor("Ana García", "ana.garcia@example.com"), [OnDuty], ChatPriority.Normal, new ChatMetadata());
        Assert.True((await node.Grains.GetGrain<IChatGrain>(genuine).CreateOrGet(command)).Created);

        // What 600 later creations naming the same commercial record before their chats are stored.
        var book = node.Services.GetRequiredService<IOfferBook>();
        await Task.WhenAll(Enumerable.Range(0, 600).Select(_ => book.RecordAsync(Guid.NewGuid(), [OnDuty])));
        await node.CollectIdleGrainsAsync();

        Assert.Contains(genuine, (await commercial.PendingOffers()).Select(chat => chat.Id));
    }

    [Fact]
    public async Task AnOfferIsARowOfItsOwnAndLeavesTheCommercialsRecordAsItWas()
    {
        await using var node = await StartAsync();
        var signedIn = Guid.NewGuid();
        await Conversation.SignInAsync(node, signedIn);
        var record = Assert.Single(await node.Database.GrainPayloadBytesAsync(GrainStorage.Commercial, signedIn));
        using var staff = node.ClientFor(Roles.Admin);

        for (var i = 0; i < 60; i++)
        {
            using var created = await staff.PutChatAsync(Guid.NewGuid(), Offering(Guid.NewGuid(), [signedIn]));
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }

        Assert.Equal(60, await node.Database.CountAsync("chat_offers", "commercial_id", signedIn));
        Assert.Equal(record, Assert.Single(await node.Database.GrainPayloadBytesAsync(GrainStorage.Commercial, signedIn)));
        Assert.Equal(60, (await node.Grains.GetGrain<ICommercialGrain>(signedIn).PendingOffers()).Length);
    }

    [Fact]
    public async Task OffersInACommercialsRecordFromBeforeOffersWereRowsMoveIntoTheBookWhenItIsActivated()
    {
        await using var node = await StartAsync();
        var commercial = Guid.NewGuid();
        var chatId = Guid.NewGuid();
        using var staff = node.ClientFor(Roles.Admin);
        using var created = await staff.PutChatAsync(chatId, Offering(Guid.NewGuid(), [commercial]));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        await Conversation.SignInAsync(node, commercial);
        await node.Database.ExecuteAsync("DELETE FROM chat_offers");
        // The record as the version before this one stored it: the offer in the commercial's own payload.
        await node.Database.SetGrainPayloadAsync(GrainStorage.Commercial, commercial, payload =>
            payload["Offers"] = new JsonObject { [chatId.ToString()] = DateTimeOffset.UtcNow.ToString("O") });
        await node.CollectIdleGrainsAsync();

        var pending = await node.Grains.GetGrain<ICommercialGrain>(commercial).PendingOffers();

        Assert.Equal([chatId], pending.Select(chat => chat.Id));
        Assert.Equal(1, await node.Database.CountAsync("chat_offers", "commercial_id", commercial));
        Assert.Empty(Assert.Single(await node.Database.GrainPayloadsAsync(GrainStorage.Commercial, commercial))["Offers"]!.AsObject());
    }
}
