using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ChatGrains.Tests.Faults;

/// <summary>
/// Timeouts on a three-node cluster on PostgreSQL behind nginx: a chat closes on time when the
/// node of its grain is killed, after the whole cluster was killed and started again, and a
/// reopening racing the timeout gives one outcome per episode.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", "Faults")]
public sealed class ChatTimeoutFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Unanswered = TimeSpan.FromSeconds(8);
    private static readonly TimeSpan Inactivity = TimeSpan.FromSeconds(10);

    /// <summary>The issue's bound: a timeout fires within a minute of its due time.</summary>
    private static readonly TimeSpan FiredWithin = TimeSpan.FromMinutes(1);

    private static readonly Dictionary<string, string?> Timeouts = new()
    {
        ["Chats:UnansweredTimeout"] = Unanswered.ToString(),
        ["Chats:InactivityTimeout"] = Inactivity.ToString(),
        ["Chats:InactivityWarning"] = "00:00:02",
        ["Chats:TimeoutSweepInterval"] = "00:00:01",
    };

    [Fact]
    public async Task PendingChatsCloseOnTimeWhenTheNodeOfTheirGrainsIsKilled()
    {
        await using var cluster = await BalancedCluster.StartAsync(settings: Timeouts);
        var commercial = Guid.NewGuid();
        var doomed = cluster.Nodes[1];
        await Conversation.SignInAsync(cluster.Address, TestKeys.IssueToken(Roles.Commercial, commercial));
        // Created through the doomed node, so their grains live there.
        var chats = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => CreateChatAsync(cluster, doomed.BaseAddress, commercial)));
        await doomed.KillAsync();

        using var admin = cluster.CreateClient();
        foreach (var created in chats)
        {
            var closed = await ClosedAsync(admin, created.Id, created.CreatedAt + Unanswered + FiredWithin, cluster);
            Assert.Equal("UNANSWERED", (string?)closed["closeReason"]);
            AssertFiredOnTime(closed, created.CreatedAt + Unanswered);
        }
    }

    [Fact]
    public async Task OpenChatsCloseAfterTheWholeClusterWasKilledAndStartedAgain()
    {
        await using var cluster = await BalancedCluster.StartAsync(settings: Timeouts);
        var (commercial, visitor) = (Guid.NewGuid(), Guid.NewGuid());
        var commercialToken = TestKeys.IssueToken(Roles.Commercial, commercial);
        await Conversation.SignInAsync(cluster.Address, commercialToken);
        var pending = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => CreateChatAsync(cluster, cluster.Nodes[i % 3].BaseAddress, commercial)));
        var active = await CreateChatAsync(cluster, cluster.Nodes[0].BaseAddress, commercial, visitor);
        DateTimeOffset acceptedAt;
        await using (var agent = await HubClient.ConnectAsync(cluster.Address, commercialToken))
        {
            acceptedAt = (await agent.AcceptAsync(active.Id)).GetProperty("updatedAt").GetDateTimeOffset();
        }

        foreach (var node in cluster.Nodes)
        {
            await node.KillAsync();
        }
        var restartedAt = DateTimeOffset.UtcNow;
        for (var i = 0; i < cluster.Nodes.Count; i++)
        {
            await cluster.RestartNodeAsync(i);
        }

        using var admin = cluster.CreateClient();
        var bound = (restartedAt > acceptedAt + Inactivity ? restartedAt : acceptedAt + Inactivity) + FiredWithin;
        foreach (var created in pending)
        {
            Assert.Equal("UNANSWERED", (string?)(await ClosedAsync(admin, created.Id, bound, cluster))["closeReason"]);
        }
        var inactive = await ClosedAsync(admin, active.Id, bound, cluster);
        Assert.Equal("INACTIVITY", (string?)inactive["closeReason"]);
        Assert.True(inactive["closedAt"]!.GetValue<DateTimeOffset>() >= acceptedAt + Inactivity, $"closed at {inactive["closedAt"]}, accepted at {acceptedAt:O}");
    }

    [Fact]
    public async Task AReopeningRacingTheUnansweredTimeoutGivesOneCloseAndOneReopenPerEpisode()
    {
        await using var cluster = await BalancedCluster.StartAsync(settings: Timeouts);
        var (commercial, visitor) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.SignInAsync(cluster.Address, TestKeys.IssueToken(Roles.Commercial, commercial));
        var created = await CreateChatAsync(cluster, cluster.Nodes[0].BaseAddress, commercial, visitor);
        var visitorToken = TestKeys.IssueToken(Roles.Visitor, visitor);
        await using var guest = await HubClient.ConnectAsync(cluster.Nodes[1].BaseAddress, visitorToken);

        // The visitor keeps asking to reopen through the third node from before the deadline:
        // refused while the chat is open, answered once the timeout closed it.
        using var reopener = cluster.CreateClient(cluster.Nodes[2].BaseAddress);
        reopener.DefaultRequestHeaders.Authorization = new("Bearer", visitorToken);
        var giveUp = created.CreatedAt + Unanswered + FiredWithin;
        JsonObject reopened;
        var refusals = 0;
        while (true)
        {
            Assert.True(DateTimeOffset.UtcNow < giveUp, $"not reopened after {refusals} refusals\n{cluster.NodesReport()}");
            using var response = await reopener.PostAsync(new Uri($"/v2/chats/{created.Id}/reopen", UriKind.Relative), null);
            var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            if (response.StatusCode == HttpStatusCode.OK)
            {
                reopened = body;
                break;
            }
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("CHAT_NOT_CLOSED", (string?)body["code"]);
            refusals++;
            await Task.Delay(TimeSpan.FromMilliseconds(100));
        }
        output.WriteLine($"reopened after {refusals} refusals");

        var firstClose = await guest.NextAsync("chatClosed", Unanswered + FiredWithin);
        Assert.Equal(1, firstClose.GetProperty("episode").GetInt32());
        Assert.Equal("UNANSWERED", firstClose.GetProperty("closeReason").GetString());
        Assert.Equal("PENDING", (string?)reopened["status"]);
        Assert.Equal(2, (int?)reopened["episode"]);
        // The second episode is timed from the reopening, not from the first deadline.
        var reopenedAt = reopened["updatedAt"]!.GetValue<DateTimeOffset>();
        var secondClose = await guest.NextAsync("chatClosed", Unanswered + FiredWithin);
        Assert.Equal(2, secondClose.GetProperty("episode").GetInt32());
        Assert.True(secondClose.GetProperty("closedAt").GetDateTimeOffset() >= reopenedAt + Unanswered,
            $"reopened at {reopenedAt:O}, closed again at {secondClose.GetProperty("closedAt")}");
        await guest.AssertNoneAsync("chatClosed");
    }

    private static void AssertFiredOnTime(JsonObject closed, DateTimeOffset due)
    {
        var closedAt = closed["closedAt"]!.GetValue<DateTimeOffset>();
        Assert.True(closedAt >= due && closedAt <= due + FiredWithin, $"due at {due:O}, closed at {closedAt:O}");
    }

    /// <summary>The chat as the transcript shows it (admin), once it is CLOSED; fails at <paramref name="giveUp"/>.</summary>
    private async Task<JsonObject> ClosedAsync(HttpClient admin, Guid chatId, DateTimeOffset giveUp, BalancedCluster cluster)
    {
        while (true)
        {
            using var response = await admin.GetAsync(new Uri($"/v2/chats/{chatId}/transcript", UriKind.Relative));
            // Through the balancer: a node still joining may answer 503 for a moment.
            if (response.StatusCode == HttpStatusCode.OK
                && (await response.Content.ReadFromJsonAsync<JsonObject>())!["chat"] is JsonObject { } chat
                && (string?)chat["status"] == "CLOSED")
            {
                return chat;
            }
            Assert.True(DateTimeOffset.UtcNow < giveUp, $"chat {chatId} not closed by {giveUp:O} (last answer {(int)response.StatusCode})\n{cluster.NodesReport()}");
            output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} chat {chatId}: {(int)response.StatusCode}");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    private static async Task<(Guid Id, DateTimeOffset CreatedAt)> CreateChatAsync(BalancedCluster cluster, Uri node, Guid commercial, Guid? visitor = null)
    {
        var chat = await cluster.CreateChatAsync(node, commercial, visitor);
        return (chat["id"]!.GetValue<Guid>(), chat["createdAt"]!.GetValue<DateTimeOffset>());
    }
}
