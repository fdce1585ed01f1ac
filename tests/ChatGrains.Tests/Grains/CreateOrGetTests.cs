using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Grains;

/// <summary>Create-or-get per grain kind: the first command creates the record, later ones get it.</summary>
[Collection(GrainClusterCollection.Name)]
[Trait("Category", "Grains")]
public sealed class CreateOrGetTests(GrainClusterFixture fixture)
{
    private GrainCluster Cluster => fixture.Cluster;

    private PostgresDatabase Database => fixture.Cluster.Database;

    [Fact]
    public async Task AChatIsCreatedByTheFirstCommandAndLaterCommandsFromOtherSilosGetItUnchanged()
    {
        var id = Guid.NewGuid();

        var first = await Cluster.GrainsOf(Cluster.Silos[0]).GetGrain<IChatGrain>(id).CreateOrGet(GrainCommands.Chat("first visitor"));
        Assert.True(first.Created);
        Assert.Equal(1, await Database.GrainRecordsAsync(GrainStorage.Chat, id));
        var second = await Cluster.GrainsOf(Cluster.Silos[1]).GetGrain<IChatGrain>(id).CreateOrGet(GrainCommands.Chat("second visitor", ChatPriority.Urgent));

        Assert.False(second.Created);
        Assert.Equal(id, first.Chat.Id);
        Assert.Equal("first visitor", first.Chat.Visitor.Name);
        GrainCommands.AssertSameRecord(first.Chat, second.Chat);
        var stored = Assert.Single(await Database.GrainPayloadsAsync(GrainStorage.Chat, id));
        Assert.Equal(first.Chat.VisitorId, stored["Value"]!["VisitorId"]!.GetValue<Guid>());
        var created = Assert.Single(await Database.EventsAsync(), e => e.ChatId == id);
        Assert.Equal((EventTypes.ChatCreated, 1L), (created.Type, created.ChatSeq));
        Assert.Equal(first.Chat.VisitorId, (Guid?)created.Data["VisitorId"]);
        // The second activation's insert found the chat stored: it stored no offer or deadline of its own.
        Assert.Equal(1, await Database.CountAsync("chat_offers", "chat_id", id));
        Assert.Equal(1, await Database.CountAsync("chat_offers", "commercial_id", first.Chat.AvailableCommercialIds[0]));
        Assert.Equal(1, await Database.CountAsync("chat_deadlines", "chat_id", id));
    }

    [Fact]
    public async Task AGuestSessionIsOpenedByTheFirstCommandAndLaterCommandsFromOtherSilosGetItUnchanged()
    {
        var key = $"session-{Guid.NewGuid():N}";

        var first = await Cluster.GrainsOf(Cluster.Silos[0]).GetGrain<IGuestSessionGrain>(key).Open(GrainCommands.GuestSession("first guest"));
        Assert.True(first.Created);
        Assert.Equal(1, await Database.GrainRecordsAsync(GrainStorage.GuestSession, key));
        var second = await Cluster.GrainsOf(Cluster.Silos[1]).GetGrain<IGuestSessionGrain>(key).Open(GrainCommands.GuestSession("second guest"));

        Assert.False(second.Created);
        Assert.Equal(key, first.Session.SessionKey);
        Assert.Equal("first guest", first.Session.GuestName);
        GrainCommands.AssertSameRecord(first.Session, second.Session);
        Assert.Empty(second.Messages);
        Assert.Single(await Database.GrainPayloadsAsync(GrainStorage.GuestSession, key));
        var started = Assert.Single(await Database.EventsAboutAsync(EventTypes.GuestSessionStarted, data => (string?)data["Session"]!["SessionKey"] == key));
        Assert.Equal(first.Session.Id, (Guid?)started.Data["Session"]!["Id"]);
        Assert.Null(started.ChatId);
    }

    [Fact]
    public async Task ALiveChatSessionIsStartedByTheFirstCommandAndLaterCommandsFromOtherSilosGetItUnchanged()
    {
        var id = Guid.NewGuid();

        var first = await Cluster.GrainsOf(Cluster.Silos[0]).GetGrain<ILiveChatSessionGrain>(id).Start(GrainCommands.LiveChatSession("first listener"));
        Assert.Equal(1, await Database.GrainRecordsAsync(GrainStorage.LiveChatSession, id));
        var second = await Cluster.GrainsOf(Cluster.Silos[1]).GetGrain<ILiveChatSessionGrain>(id).Start(GrainCommands.LiveChatSession("second listener"));

        // The session carries no Created flag: the guest user made with it tells the first record from a second.
        Assert.Equal(id, first.Id);
        Assert.Equal("first listener", first.User.Name);
        GrainCommands.AssertSameRecord(first, second);
        Assert.Single(await Database.GrainPayloadsAsync(GrainStorage.LiveChatSession, id));
        var started = Assert.Single(await Database.EventsAboutAsync(EventTypes.LiveChatSessionStarted, data => (Guid?)data["Id"] == id));
        Assert.Equal(first.User.Id, (Guid?)started.Data["User"]!["Id"]);
    }

    [Fact]
    public async Task AChatDeactivatedAfterItsCreationIsReadBackFromStorageByItsNextActivation()
    {
        var id = Guid.NewGuid();
        var chat = Cluster.GrainsOf(Cluster.Silos[0]).GetGrain<IChatGrain>(id);
        var first = await chat.CreateOrGet(GrainCommands.Chat("stored visitor"));

        await Cluster.Cluster.DeactivateAsync(chat);
        Assert.Null(Cluster.HostOf(chat));
        var again = await Cluster.GrainsOf(Cluster.Silos[1]).GetGrain<IChatGrain>(id).CreateOrGet(GrainCommands.Chat("later visitor"));

        Assert.True(first.Created);
        Assert.False(again.Created);
        GrainCommands.AssertSameRecord(first.Chat, again.Chat);
        Assert.Equal(1, await Database.GrainRecordsAsync(GrainStorage.Chat, id));
        Assert.Equal([EventTypes.ChatCreated], await Database.ChatEventTypesAsync(id));
    }

    /// <summary>
    /// A creation's next activation does not read the record before its insert (the insert finds
    /// it stored): it must still answer with the conversation as the message log has it.
    /// </summary>
    [Fact]
    public async Task ACreationOnALaterActivationAnswersWithTheConversationAsStored()
    {
        var id = Guid.NewGuid();
        var chat = Cluster.GrainsOf(Cluster.Silos[0]).GetGrain<IChatGrain>(id);
        var first = await chat.CreateOrGet(GrainCommands.Chat("talking visitor"));
        var commercial = first.Chat.AvailableCommercialIds[0];
        Assert.Null((await chat.Accept(commercial)).Refusal);
        var visitor = new Participant(ParticipantRole.Visitor, first.Chat.VisitorId);
        foreach (var text in new[] { "hello", "anyone there?" })
        {
            Assert.Null((await chat.Send(new SendMessage(visitor, Guid.NewGuid(), text, MaxWhilePending: 5))).Refusal);
        }

        await Cluster.Cluster.DeactivateAsync(chat);
        Assert.Null(Cluster.HostOf(chat));
        var again = await Cluster.GrainsOf(Cluster.Silos[1]).GetGrain<IChatGrain>(id).CreateOrGet(GrainCommands.Chat("later visitor"));

        Assert.False(again.Created);
        Assert.Equal((ChatStatus.Active, commercial, first.Chat.VisitorId), (again.Chat.Status, again.Chat.AssignedCommercialId, again.Chat.VisitorId));
        Assert.Equal((2, 2), (again.Chat.TotalMessages, again.Chat.UnreadMessagesCount));
    }
}
