using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway;
using ChatGrains.Grains;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;
using ChatGrains.Tests.LiveChat;
using Microsoft.Extensions.Options;

namespace ChatGrains.Tests.Storage;

/// <summary>
/// Sessions are kept <c>Sessions:Retention</c> (30 days) after their last use. Time is moved by
/// back-dating stored rows, as if they had been written long ago; the node sweeps often.
/// </summary>
public abstract class SessionRetentionContract(TestNode node)
{
    public static readonly IReadOnlyDictionary<string, string?> FastSweep = new Dictionary<string, string?> { ["Sessions:SweepInterval"] = "00:00:00.2" };

    /// <summary>An UPDATE's SET clause that moves the row's last write back by <paramref name="days"/>.</summary>
    protected abstract string ModifiedOnBackBy(int days);

    [Fact]
    public async Task ASessionNotUsedForTheRetentionIsRemovedWithItsVisitorRecordAndItsChatsAreKept()
    {
        var guestSession = GuestSessionRequests.NewSessionId();
        using var guest = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = guestSession, ["guest_name"] = "Ana" });
        using var liveChat = await node.Client.PostLiveChatAsync(LiveChatRequests.Budi());
        var started = await liveChat.BodyAsync();
        var (liveChatSession, user) = (Guid.Parse((string)started["sessionId"]!), Guid.Parse((string)started["userId"]!));
        var chat = Guid.NewGuid();
        using var visitor = new HttpClient { BaseAddress = node.BaseAddress };
        visitor.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)started["sessionToken"]!);
        await Conversation.SignInAsync(node, ChatRequests.Commercials);
        using var opened = await visitor.PutChatAsync(chat, ChatRequests.MinimalBody(user));
        Assert.Equal(HttpStatusCode.Created, guest.StatusCode);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);

        await BackdateAsync(GrainStorage.GuestSession, guestSession, days: 31);
        await BackdateAsync(GrainStorage.LiveChatSession, liveChatSession, days: 31);
        await BackdateAsync(GrainStorage.Visitor, user, days: 31);
        await BackdateAsync(GrainStorage.Chat, chat, days: 31);

        await WaitUntilGoneAsync(GrainStorage.GuestSession, guestSession);
        await WaitUntilGoneAsync(GrainStorage.LiveChatSession, liveChatSession);
        await WaitUntilGoneAsync(GrainStorage.Visitor, user);
        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.Chat, chat));
    }

    [Fact]
    public async Task AReplayAfterTheRetentionStartsAFreshSessionWith201()
    {
        var sessionId = GuestSessionRequests.NewSessionId();
        using var first = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionId, ["guest_name"] = "Ana", ["guest_email"] = "ana@example.com" });
        var firstId = (string)(await first.EnvelopeAsync())["data"]!["session"]!["id"]!;
        await node.CollectIdleGrainsAsync();
        await node.Database.SetGrainPayloadAsync(GrainStorage.GuestSession, sessionId,
            payload => payload["Value"]!["Session"]!["CreatedAt"] = DateTimeOffset.UtcNow.AddDays(-31).ToString("O"));

        using var again = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = sessionId });

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        var envelope = await again.EnvelopeAsync();
        Assert.Equal("Session created successfully", (string?)envelope["message"]);
        var session = envelope["data"]!["session"]!;
        Assert.NotEqual(firstId, (string?)session["id"]);
        Assert.Equal(sessionId, (string?)session["session_id"]);
        Assert.Null(session["guest_email"]);
        var stored = Assert.Single(await node.Database.GrainPayloadsAsync(GrainStorage.GuestSession, sessionId));
        Assert.Equal((string?)session["id"], (string?)stored["Value"]!["Session"]!["Id"]);
        Assert.DoesNotContain("ana@example.com", stored.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReplayWithinTheRetentionAnswersTheSessionAndRefreshesItsLastUseSoTheSweepKeepsIt()
    {
        var kept = GuestSessionRequests.NewSessionId();
        using var first = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = kept });
        var firstId = (string)(await first.EnvelopeAsync())["data"]!["session"]!["id"]!;
        await node.CollectIdleGrainsAsync();
        await node.Database.SetGrainPayloadAsync(GrainStorage.GuestSession, kept,
            payload => payload["Value"]!["Session"]!["CreatedAt"] = DateTimeOffset.UtcNow.AddDays(-29).ToString("O"));
        await BackdateAsync(GrainStorage.GuestSession, kept, days: 29);
        var beforeReplay = DateTimeOffset.UtcNow.AddSeconds(-1);

        using var replay = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = kept });

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(firstId, (string?)(await replay.EnvelopeAsync())["data"]!["session"]!["id"]);
        var stored = Assert.Single(await node.Database.GrainPayloadsAsync(GrainStorage.GuestSession, kept));
        Assert.True(DateTimeOffset.Parse((string)stored["LastUsedAt"]!, System.Globalization.CultureInfo.InvariantCulture) >= beforeReplay);

        // A session a day past the retention, removed by a sweep that keeps the refreshed one.
        var expired = GuestSessionRequests.NewSessionId();
        using (await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = expired }))
        {
        }
        await BackdateAsync(GrainStorage.GuestSession, expired, days: 31);
        await WaitUntilGoneAsync(GrainStorage.GuestSession, expired);
        Assert.Equal(1, await node.Database.GrainRecordsAsync(GrainStorage.GuestSession, kept));
    }

    private Task BackdateAsync(string stateName, object key, int days) =>
        node.Database.ExecuteAsync($"UPDATE orleansstorage SET {ModifiedOnBackBy(days)} WHERE {RowOf(stateName, key)}");

    private async Task WaitUntilGoneAsync(string stateName, object key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await node.Database.GrainRecordsAsync(stateName, key) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The {stateName} record {key} was not removed within 30 s.");
            await Task.Delay(50);
        }
    }

    /// <summary>The grain's row, with its key inline (a test's own UUIDs): how Orleans' AdoGrainKey stores it.</summary>
    private static string RowOf(string stateName, object key) => key switch
    {
        Guid id => $"graintypestring = '{stateName}' AND grainidn0 = {BitConverter.ToInt64(id.ToByteArray(), 0)} AND grainidn1 = {BitConverter.ToInt64(id.ToByteArray(), 8)} AND grainidextensionstring IS NULL",
        _ => $"graintypestring = '{stateName}' AND grainidextensionstring = '{key}'",
    };
}

public sealed class SessionRetentionOnSqlite(SessionRetentionOnSqlite.Node fixture) : SessionRetentionContract(fixture.Instance), IClassFixture<SessionRetentionOnSqlite.Node>
{
    protected override string ModifiedOnBackBy(int days) => $"ModifiedOn = datetime(ModifiedOn, '-{days} days')";

    public sealed class Node : IAsyncLifetime
    {
        public TestNode Instance { get; private set; } = null!;

        public async Task InitializeAsync() => Instance = await TestNode.StartOnSqliteAsync(FastSweep);

        public async Task DisposeAsync() => await Instance.DisposeAsync();
    }
}

public sealed class SessionRetentionOnPostgres(SessionRetentionOnPostgres.Node fixture) : SessionRetentionContract(fixture.Instance), IClassFixture<SessionRetentionOnPostgres.Node>
{
    protected override string ModifiedOnBackBy(int days) => $"modifiedon = modifiedon - interval '{days} days'";

    public sealed class Node : IAsyncLifetime
    {
        private PostgresDatabase _database = null!;

        public TestNode Instance { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            _database = await (await PostgresServer.Shared).CreateDatabaseAsync();
            Instance = await TestNode.StartOnPostgresAsync(_database, FastSweep);
        }

        public async Task DisposeAsync()
        {
            await Instance.DisposeAsync();
            await _database.DisposeAsync();
        }
    }
}

public sealed class SessionSettingsTests
{
    [Theory]
    [InlineData("Sessions:Retention", "00:00:00")]
    [InlineData("Sessions:SweepInterval", "-00:01:00")]
    [InlineData("Sessions:SweepInterval", "2.00:00:00")]
    public async Task ANodeRefusesToStartWithABadSessionSettingNamingIt(string key, string value)
    {
        await using var app = ChatGrainsApp.Build(["--urls=http://127.0.0.1:0", $"--Storage:SqlitePath={Path.Combine(Path.GetTempPath(), $"chatgrains-node-{Guid.NewGuid():N}", "chatgrains.db")}", $"--{key}={value}"]);

        var refused = await Assert.ThrowsAnyAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(key, refused.Message, StringComparison.Ordinal);
    }
}
