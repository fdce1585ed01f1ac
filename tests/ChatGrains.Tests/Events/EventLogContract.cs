using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Silo;
using ChatGrains.Silo.Postgres;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;
using ChatGrains.Tests.LiveChat;
using ChatGrains.Tests.Storage;
using Npgsql;

namespace ChatGrains.Tests.Events;

/// <summary>
/// The event log and its feed (<c>GET /v2/events</c>): one event per stored change, numbered per
/// chat, with the resource as the API returns it; read by cursor, filtered, long-polled.
/// Run on both databases.
/// </summary>
public abstract class EventLogContract(TestNode node)
{
    [Fact]
    public async Task AChatsWholeLifeIsOneEventPerStoredChangeNumberedFromOneWithTheResourceTheApiReturned()
    {
        using var admin = node.ClientFor(Roles.Admin);
        var cursor = await EventFeed.EndAsync(admin);
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        var created = await Conversation.OpenChatAsync(node, chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(node, commercial);
        await using var guest = await Conversation.VisitorAsync(node, visitor);
        var accepted = await agent.AcceptAsync(chatId);
        var first = await guest.SendAsync(chatId, "hola");
        var second = await agent.SendAsync(chatId, "¿en qué puedo ayudar?");
        await agent.InvokeAsync<JsonElement>("MarkRead", chatId.ToString(), 2L); // stored, but no event
        var closed = await guest.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), null);
        var rated = await guest.InvokeAsync<JsonElement>("RateChat", chatId.ToString(), 4, "bien");
        var reopened = await guest.InvokeAsync<JsonElement>("ReopenChat", chatId.ToString());

        var events = await EventFeed.ChatEventsAsync(node, cursor, chatId, 7);

        Assert.Equal(
            [EventTypes.ChatCreated, EventTypes.ChatAccepted, EventTypes.MessageCreated, EventTypes.MessageCreated,
             EventTypes.ChatClosed, EventTypes.ChatRated, EventTypes.ChatReopened],
            events.Select(e => (string)e["type"]!));
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7], events.Select(e => (long)e["chatSeq"]!));
        Assert.Equal(7, events.Select(e => (Guid)e["id"]!).Distinct().Count());
        Assert.True(JsonNode.DeepEquals(created, events[0]["data"]), $"created {created}\nevent {events[0]["data"]}");
        Assert.True(Conversation.SameJson(accepted, events[1]["data"]!), $"accepted {accepted}\nevent {events[1]["data"]}");
        Assert.True(Conversation.SameJson(first, events[2]["data"]!), $"message {first}\nevent {events[2]["data"]}");
        Assert.True(Conversation.SameJson(second, events[3]["data"]!), $"message {second}\nevent {events[3]["data"]}");
        // chat.rated carries the chat (as every chat.* event), with the rating RateChat answered.
        Assert.True(Conversation.SameJson(rated, events[5]["data"]!["rating"]!), $"rated {rated}\nevent {events[5]["data"]}");
        Assert.True(Conversation.SameJson(reopened, events[6]["data"]!), $"reopened {reopened}\nevent {events[6]["data"]}");
        Assert.Equal("CLOSED", (string)events[4]["data"]!["status"]!);
        Assert.Equal(closed.GetProperty("closedAt").GetString(), (string)events[4]["occurredAt"]!);
        Assert.Equal((string)created["createdAt"]!, (string)events[0]["occurredAt"]!);
        // A message's event is the message as the hub sends it.
        Assert.Equal(first.GetProperty("sentAt").GetString(), (string)events[2]["occurredAt"]!);
    }

    [Fact]
    public async Task AChatReadBackFromStorageNumbersItsNextEventAfterItsLastMessage()
    {
        using var admin = node.ClientFor(Roles.Admin);
        var cursor = await EventFeed.EndAsync(admin);
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(node, chatId, visitor, commercial);
        await using (var agent = await Conversation.CommercialAsync(node, commercial))
        await using (var guest = await Conversation.VisitorAsync(node, visitor))
        {
            await agent.AcceptAsync(chatId);
            await guest.SendAsync(chatId, "halo");
        }

        // A new activation reads the record (event 2) and the message log (event 3).
        await node.CollectIdleGrainsAsync();
        using var closed = await admin.PostAsync(new Uri($"/v2/chats/{chatId}/close", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);

        var events = await EventFeed.ChatEventsAsync(node, cursor, chatId, 4);
        Assert.Equal(
            [(EventTypes.ChatCreated, 1L), (EventTypes.ChatAccepted, 2L), (EventTypes.MessageCreated, 3L), (EventTypes.ChatClosed, 4L)],
            events.Select(e => ((string)e["type"]!, (long)e["chatSeq"]!)));
    }

    [Fact]
    public async Task ARecordRewrittenWithSqlStoresNoEventAgain()
    {
        var chatId = Guid.NewGuid();
        await Conversation.OpenChatAsync(node, chatId, Guid.NewGuid(), Guid.NewGuid());
        await node.CollectIdleGrainsAsync();

        // As an operator's UPDATE would: the record keeps the events of its last write.
        await node.Database.SetGrainPayloadAsync(GrainStorage.Chat, chatId, payload => payload["Value"]!["Priority"] = "HIGH");

        Assert.Equal([EventTypes.ChatCreated], await node.Database.ChatEventTypesAsync(chatId));
        using var admin = node.ClientFor(Roles.Admin);
        using var closed = await admin.PostAsync(new Uri($"/v2/chats/{chatId}/close", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        Assert.Equal([EventTypes.ChatCreated, EventTypes.ChatClosed], await node.Database.ChatEventTypesAsync(chatId));
    }

    [Fact]
    public async Task SessionsStartedAreEventsWithTheResourceAndNeverTheSessionToken()
    {
        using var admin = node.ClientFor(Roles.Admin);
        var cursor = await EventFeed.EndAsync(admin);
        var sessionKey = GuestSessionRequests.NewSessionId();
        using var guestResponse = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionKey, ["guest_name"] = "Ana García" });
        var guestSession = (await guestResponse.Content.ReadFromJsonAsync<JsonObject>())!["data"]!["session"]!;
        using var liveChatResponse = await node.Client.PostLiveChatAsync(new JsonObject { ["name"] = "Budi", ["city"] = "Bandung", ["country"] = "Indonesia" });
        Assert.Equal(HttpStatusCode.Created, liveChatResponse.StatusCode);
        var liveChat = (await liveChatResponse.Content.ReadFromJsonAsync<JsonObject>())!;

        var events = await EventFeed.ReadUntilAsync(admin, cursor, read => read.Count >= 2);

        var guest = Assert.Single(events, e => (string?)e["type"] == EventTypes.GuestSessionStarted);
        Assert.True(JsonNode.DeepEquals(guestSession, guest["data"]), $"session {guestSession}\nevent {guest["data"]}");
        Assert.Null(guest["chatId"]);
        Assert.Null(guest["chatSeq"]);
        var started = Assert.Single(events, e => (string?)e["type"] == EventTypes.LiveChatSessionStarted);
        Assert.Equal((Guid)liveChat["sessionId"]!, (Guid)started["data"]!["sessionId"]!);
        Assert.Equal((Guid)liveChat["userId"]!, (Guid)started["data"]!["userId"]!);
        Assert.Equal("Bandung", (string)started["data"]!["city"]!);
        Assert.Equal((string)liveChat["expiresAt"]!, (string)started["data"]!["expiresAt"]!);
        Assert.DoesNotContain((string)liveChat["sessionToken"]!, started.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PagesFollowOneAnotherWithoutLossOrRepeatAndATypeFilterSkipsThePagesItDoesNotWant()
    {
        using var admin = node.ClientFor(Roles.Admin);
        var cursor = await EventFeed.EndAsync(admin);
        var chats = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            chats.Add(Guid.NewGuid());
            await Conversation.OpenChatAsync(node, chats[^1], Guid.NewGuid(), Guid.NewGuid());
        }

        var paged = await EventFeed.ReadUntilAsync(admin, cursor, read => read.Count(e => chats.Contains((Guid)e["chatId"]!)) >= 5, "&limit=2");

        Assert.Equal(chats, paged.Select(e => (Guid)e["chatId"]!).Where(chats.Contains));
        Assert.Equal(paged.Count, paged.Select(e => (Guid)e["id"]!).Distinct().Count());
        var filtered = await EventFeed.ReadAsync(admin, $"?after={cursor}&types=guest_session.started,livechat_session.started");
        Assert.Empty(filtered["events"]!.AsArray());
        // Past the chats' events: asking on from there for chats finds none of them again.
        var after = await EventFeed.ReadAsync(admin, $"?after={filtered["nextCursor"]}&types=chat.created");
        Assert.DoesNotContain(after["events"]!.AsArray(), e => chats.Contains((Guid)e!["chatId"]!));
        var onlyCreated = await EventFeed.ReadAsync(admin, $"?after={cursor}&types=chat.created&limit=500");
        Assert.Equal(chats, onlyCreated["events"]!.AsArray().Select(e => (Guid)e!["chatId"]!).Where(chats.Contains));
    }

    [Fact]
    public async Task ALongPollAnswersWithTheEventStoredWhileItWaitsAndAnEmptyPageWhenNothingCame()
    {
        using var admin = node.ClientFor(Roles.Admin);
        var cursor = await EventFeed.EndAsync(admin);
        var empty = await EventFeed.ReadAsync(admin, $"?after={cursor}&wait=1&types=livechat_session.started");
        Assert.Empty(empty["events"]!.AsArray());

        var chatId = Guid.NewGuid();
        var poll = EventFeed.ReadAsync(admin, $"?after={cursor}&wait=30&types=chat.created");
        await Conversation.OpenChatAsync(node, chatId, Guid.NewGuid(), Guid.NewGuid());
        var page = await poll;

        Assert.Equal(chatId, (Guid)Assert.Single(page["events"]!.AsArray())!["chatId"]!);
    }

    [Theory]
    [InlineData("?after=not-a-cursor", "after")]
    [InlineData("?after=djIuMS4y", "after")]
    [InlineData("?limit=0", "limit")]
    [InlineData("?limit=501", "limit")]
    [InlineData("?limit=ten", "limit")]
    [InlineData("?wait=31", "wait")]
    [InlineData("?wait=-1", "wait")]
    [InlineData("?types=chat.deleted", "types")]
    [InlineData("?types=", "types")]
    public async Task ABadQueryIsA400NamingTheField(string query, string field)
    {
        using var admin = node.ClientFor(Roles.Admin);
        using var response = await admin.GetAsync(new Uri($"/v2/events{query}", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(400, (int)problem["status"]!);
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task OnlyAdminsAndIntegrationsReadTheFeed()
    {
        using var anonymous = new HttpClient { BaseAddress = node.BaseAddress };
        using var visitor = node.ClientFor(Roles.Visitor);
        using var commercial = node.ClientFor(Roles.Commercial);
        using var integration = node.ClientFor(Roles.Integration);
        var path = new Uri("/v2/events", UriKind.Relative);

        using (var response = await anonymous.GetAsync(path)) { Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode); }
        using (var response = await visitor.GetAsync(path)) { Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); }
        using (var response = await commercial.GetAsync(path)) { Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); }
        using (var response = await integration.GetAsync(path)) { Assert.Equal(HttpStatusCode.OK, response.StatusCode); }
    }
}

public sealed class SqliteEventLogTests(SqliteNodeFixture fixture) : EventLogContract(fixture.Node), IClassFixture<SqliteNodeFixture>;

/// <summary>The batched grain storage, which writes a record's events in the record's statement.</summary>
public sealed class PostgresEventLogTests(PostgresNodeFixture fixture) : EventLogContract(fixture.Node), IClassFixture<PostgresNodeFixture>
{
    /// <summary>
    /// The log's order is the writing transaction's id as a number, not as text: ordered by its
    /// text, "9" came after "10" (and "997" after "8348"), and a webhook created then started at
    /// an old event and sent it everything since.
    /// </summary>
    [Fact]
    public async Task TheLogFollowsTransactionIdsAsNumbersWhereTheirTextSortsTheOtherWay()
    {
        await using var database = await (await PostgresServer.Shared).CreateDatabaseAsync();
        await using var db = NpgsqlDataSource.Create(database.ConnectionString);
        foreach (var migration in Migration.For("postgres"))
        {
            await using var migrate = db.CreateCommand(migration.Sql);
            await migrate.ExecuteNonQueryAsync();
        }
        // Transaction ids given by hand (both long finished): 10 stored first, then 9.
        await using (var insert = db.CreateCommand("""
            INSERT INTO events (tx, type, occurred_at, data) VALUES ('10', 'chat.created', now(), '{}');
            INSERT INTO events (tx, type, occurred_at, data) VALUES ('9', 'chat.created', now(), '{}');
            """))
        {
            await insert.ExecuteNonQueryAsync();
        }
        var log = new PostgresEventLog(db);

        var all = await log.ReadAsync(EventPosition.Start, 10, null, CancellationToken.None);
        Assert.Equal([9UL, 10UL], all.Events.Select(e => e.Position.Transaction));
        Assert.Equal(all.Events[1].Position, await log.EndAsync(CancellationToken.None));
        Assert.Equal(all.Events[1].Position, all.Next);
        var after9 = await log.ReadAsync(all.Events[0].Position, 10, null, CancellationToken.None);
        Assert.Equal([10UL], after9.Events.Select(e => e.Position.Transaction));
        var byIds = await log.ReadByIdsAsync([all.Events[1].Id, all.Events[0].Id], CancellationToken.None);
        Assert.Equal([9UL, 10UL], byIds.Select(e => e.Position.Transaction));
    }
}

/// <summary>Orleans' ADO.NET grain storage on PostgreSQL, whose records' events the database's trigger writes.</summary>
public sealed class AdoNetPostgresEventLogTests(AdoNetPostgresNodeFixture fixture)
    : EventLogContract(fixture.Node), IClassFixture<AdoNetPostgresNodeFixture>;
