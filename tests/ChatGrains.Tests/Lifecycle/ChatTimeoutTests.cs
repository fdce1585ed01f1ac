using System.Text.Json;
using ChatGrains.Grains;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Lifecycle;

/// <summary>A node on SQLite whose chats time out in seconds, swept five times a second.</summary>
public sealed class TimeoutNodeFixture : IAsyncLifetime
{
    // Wide enough that a test's next step (accepting, answering a warning) comes in time on a
    // busy machine; short enough to wait for.
    public static readonly TimeSpan Unanswered = TimeSpan.FromSeconds(6);
    public static readonly TimeSpan Inactivity = TimeSpan.FromSeconds(8);
    public static readonly TimeSpan Warning = TimeSpan.FromSeconds(6);

    public TestNode Node { get; private set; } = null!;

    public static Dictionary<string, string?> Settings() => new()
    {
        ["Chats:UnansweredTimeout"] = Unanswered.ToString(),
        ["Chats:InactivityTimeout"] = Inactivity.ToString(),
        ["Chats:InactivityWarning"] = Warning.ToString(),
        ["Chats:TimeoutSweepInterval"] = "00:00:00.2",
    };

    public async Task InitializeAsync() => Node = await TestNode.StartOnSqliteAsync(Settings());

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>
/// A chat's timeouts on one node: unanswered, the inactivity warning and close, a message
/// cancelling the warning, a reopened chat timed from its reopening. Configured in seconds; the
/// tests wait for the events, never for the time.
/// </summary>
public sealed class ChatTimeoutTests(TimeoutNodeFixture fixture) : IClassFixture<TimeoutNodeFixture>
{
    private TestNode Node => fixture.Node;

    private static DateTimeOffset Time(JsonElement payload, string name) => payload.GetProperty(name).GetDateTimeOffset();

    [Fact]
    public async Task APendingChatNobodyAcceptsClosesAsUnansweredAndItsOffersAreWithdrawn()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        var created = await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        // The activation that created the chat is gone once it answered (GrainLifetimes): the
        // timeout does not depend on the grain staying in memory.
        Assert.Equal(chatId, (await agent.NextAsync("chatOffered", offer => offer.ChatId() == chatId)).ChatId());

        var closed = await guest.NextAsync("chatClosed", TimeoutNodeFixture.Unanswered + HubClient.Patience);

        Assert.Equal(chatId, closed.ChatId());
        Assert.Equal("CLOSED", closed.GetProperty("status").GetString());
        Assert.Equal("UNANSWERED", closed.GetProperty("closeReason").GetString());
        Assert.Equal("system", closed.GetProperty("closedBy").GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, closed.GetProperty("closedBy").GetProperty("id").ValueKind);
        Assert.True(Time(closed, "closedAt") >= created["createdAt"]!.GetValue<DateTimeOffset>() + TimeoutNodeFixture.Unanswered,
            $"closed at {Time(closed, "closedAt"):O}, created at {created["createdAt"]}");
        Assert.Equal(chatId, (await agent.NextAsync("chatWithdrawn")).ChatId());
        Assert.True(Conversation.SameJson(closed, await Conversation.ReplayAsync(Node, chatId, visitor)));
        // The offer left the commercial's catch-up.
        await using var reconnected = await Conversation.CommercialAsync(Node, commercial);
        await reconnected.AssertNoneAsync("chatOffered", offer => offer.ChatId() == chatId);
    }

    [Fact]
    public async Task AnActiveChatIsWarnedThenAMessageCancelsTheWarningAndItClosesAfterTheLastMessage()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        var accepted = await agent.AcceptAsync(chatId);

        // Warned on both sides, closing the inactivity timeout after the acceptance.
        var firstWarning = await guest.NextAsync("chatIdle");
        Assert.Equal(chatId, firstWarning.ChatId());
        Assert.Equal(Time(accepted, "updatedAt") + TimeoutNodeFixture.Inactivity, Time(firstWarning, "closesAt"));
        Assert.Equal(firstWarning.GetRawText(), (await agent.NextAsync("chatIdle")).GetRawText());

        // A message before that time: the chat is not closed then, but warned again and closed
        // the inactivity timeout after the message.
        var message = await guest.SendAsync(chatId, "masih di sini");
        var secondWarning = await guest.NextAsync("chatIdle");
        Assert.Equal(Time(message, "sentAt") + TimeoutNodeFixture.Inactivity, Time(secondWarning, "closesAt"));
        var closed = await guest.NextAsync("chatClosed");
        Assert.Equal("INACTIVITY", closed.GetProperty("closeReason").GetString());
        Assert.True(Time(closed, "closedAt") >= Time(secondWarning, "closesAt"), $"closed at {Time(closed, "closedAt"):O}");
        Assert.Equal(secondWarning.GetRawText(), (await agent.NextAsync("chatIdle")).GetRawText());
        Assert.Equal(closed.GetRawText(), (await agent.NextAsync("chatClosed")).GetRawText());
        await agent.AssertNoneAsync("chatIdle");
        await guest.AssertNoneAsync("chatIdle");
    }

    [Fact]
    public async Task AReopenedChatIsTimedFromItsReopeningAndClosesAgainAsUnanswered()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        Assert.Equal("UNANSWERED", (await guest.NextAsync("chatClosed", TimeoutNodeFixture.Unanswered + HubClient.Patience)).GetProperty("closeReason").GetString());

        var reopened = await guest.InvokeAsync<JsonElement>("ReopenChat", chatId.ToString());
        Assert.Equal("PENDING", reopened.GetProperty("status").GetString());
        // A sweep asking early (as one whose claim outlived its lease would) changes nothing.
        await Node.Grains.GetGrain<IChatGrain>(chatId).CheckTimeouts();
        Assert.Equal("PENDING", (await Conversation.ReplayAsync(Node, chatId, visitor))["status"]!.GetValue<string>());

        var closedAgain = await guest.NextAsync("chatClosed", TimeoutNodeFixture.Unanswered + HubClient.Patience);
        Assert.Equal(2, closedAgain.GetProperty("episode").GetInt32());
        Assert.Equal("UNANSWERED", closedAgain.GetProperty("closeReason").GetString());
        Assert.True(Time(closedAgain, "closedAt") >= Time(reopened, "updatedAt") + TimeoutNodeFixture.Unanswered,
            $"reopened at {Time(reopened, "updatedAt"):O}, closed at {Time(closedAgain, "closedAt"):O}");
    }

    [Fact]
    public async Task AChatClosedBeforeItsDeadlineIsNotClosedAgainAndTellsNobody()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        Assert.Equal(1, await Node.Database.CountAsync("chat_deadlines", "chat_id", chatId.ToString()));
        var closed = await guest.InvokeAsync<JsonElement>("CloseChat", chatId.ToString(), null);
        Assert.Equal(closed.GetRawText(), (await guest.NextAsync("chatClosed")).GetRawText());
        Assert.Equal(0, await Node.Database.CountAsync("chat_deadlines", "chat_id", chatId.ToString()));

        // Asked as a sweep would at the unanswered deadline: nothing changes, nobody is told.
        await Node.Grains.GetGrain<IChatGrain>(chatId).CheckTimeouts();
        await guest.InvokeAsync<JsonElement>("RateChat", chatId.ToString(), 4, null);
        await guest.AssertNoneAsync("chatClosed");
        var replayed = await Conversation.ReplayAsync(Node, chatId, visitor);
        Assert.Equal("VISITOR", replayed["closeReason"]!.GetValue<string>());
    }
}
