using ChatGrains.Grains;
using ChatGrains.Silo.Postgres;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;

namespace ChatGrains.Tests.Storage;

/// <summary>
/// What each database's message log must do (<see cref="IMessageLog"/> as the chat grain uses
/// it): a message stored once, a resend answered with what is stored, a sequence number taken
/// by another activation refused, and the counters a new activation derives.
/// </summary>
public abstract class MessageLogContract(TestNode node)
{
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(1_780_000_000_000);

    protected IMessageLog Log => node.Services.GetRequiredService<IMessageLog>();

    protected ITestDatabase Database => node.Database;

    protected static ConversationMessage Message(long seq, ParticipantRole role = ParticipantRole.Visitor, Guid? clientId = null) =>
        new(seq, clientId ?? Guid.NewGuid(), role, Guid.NewGuid(), $"pesan {seq} — ünïcode ✓", Start.AddSeconds(seq));

    [Fact]
    public async Task AnAppendedMessageIsReadBackWhole()
    {
        var chatId = Guid.NewGuid();
        var messages = new[] { Message(1), Message(2, ParticipantRole.Commercial), Message(3) };

        foreach (var message in messages)
        {
            Assert.Null(await Log.AppendAsync(chatId, message, message.Seq));
        }

        Assert.Equal(messages, await Log.ReadAsync(chatId, 1, 3));
        Assert.Equal(messages[1..], await Log.ReadAsync(chatId, 2, 9));
        Assert.Empty(await Log.ReadAsync(chatId, 4, 9));
        Assert.Empty(await Log.ReadAsync(Guid.NewGuid(), 1, 3));
        Assert.Equal(messages[1], await Log.FindAsync(chatId, messages[1].Id));
        Assert.Null(await Log.FindAsync(chatId, Guid.NewGuid()));
    }

    [Fact]
    public async Task AResendStoresNothingAndAnswersTheMessageStoredWithItsClientId()
    {
        var chatId = Guid.NewGuid();
        var first = Message(1);
        await Log.AppendAsync(chatId, first, 1);

        var resent = await Log.AppendAsync(chatId, first with { Seq = 2, Text = "again" }, 2);

        Assert.Equal(first, resent);
        Assert.Equal(1, await Database.CountAsync("chat_messages", "chat_id", chatId));
        // Another chat may use the same client id.
        Assert.Null(await Log.AppendAsync(Guid.NewGuid(), first, 1));
    }

    [Fact]
    public async Task ASequenceNumberAnotherActivationTookIsAConflictThatStoresNothing()
    {
        var chatId = Guid.NewGuid();
        var stored = Message(1);
        await Log.AppendAsync(chatId, stored, 1);

        await Assert.ThrowsAsync<InconsistentStateException>(() => Log.AppendAsync(chatId, Message(1), 2));

        Assert.Equal([stored], await Log.ReadAsync(chatId, 1, 9));
    }

    [Fact]
    public async Task ATallyCountsTheLastSequenceTheVisitorsUnreadMessagesAndTheLastSending()
    {
        var chatId = Guid.NewGuid();
        Assert.Equal(new MessageTally(0, 0, null, 0), await Log.TallyAsync(chatId, 0));
        var roles = new[] { ParticipantRole.Visitor, ParticipantRole.Visitor, ParticipantRole.Commercial, ParticipantRole.Visitor, ParticipantRole.Commercial };
        for (var seq = 1; seq <= roles.Length; seq++)
        {
            await Log.AppendAsync(chatId, Message(seq, roles[seq - 1]), seq + 1);
        }

        Assert.Equal(new MessageTally(5, 3, Start.AddSeconds(5), 6), await Log.TallyAsync(chatId, 0));
        Assert.Equal(new MessageTally(5, 1, Start.AddSeconds(5), 6), await Log.TallyAsync(chatId, 2));
        Assert.Equal(new MessageTally(5, 0, Start.AddSeconds(5), 6), await Log.TallyAsync(chatId, 5));
    }

    [Fact]
    public async Task AnImportStoresWhatIsMissingAndLeavesWhatIsStored()
    {
        var chatId = Guid.NewGuid();
        var stored = Message(1);
        await Log.AppendAsync(chatId, stored, 1);
        var kept = new[] { stored with { Text = "an older copy" }, Message(2), Message(3) };

        await Log.ImportAsync(chatId, kept);
        await Log.ImportAsync(chatId, kept);
        await Log.ImportAsync(chatId, []);

        Assert.Equal([stored, kept[1], kept[2]], await Log.ReadAsync(chatId, 1, 9));
        // Imported messages were not new: only the appended one has an event.
        Assert.Equal([EventTypes.MessageCreated], await Database.ChatEventTypesAsync(chatId));
        Assert.Equal(1, (await Log.TallyAsync(chatId, 0)).LastEventSeq);
    }

    [Fact]
    public async Task AnAppendStoresItsMessageCreatedEventAndAResendOrAConflictStoresNone()
    {
        var chatId = Guid.NewGuid();
        var message = Message(1);

        await Log.AppendAsync(chatId, message, 4);
        await Log.AppendAsync(chatId, message with { Seq = 2 }, 5);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Log.AppendAsync(chatId, Message(1), 6));
        // The chat's event number taken (by an event of another activation): a conflict, nothing stored.
        await Assert.ThrowsAsync<InconsistentStateException>(() => Log.AppendAsync(chatId, Message(2), 4));

        var stored = Assert.Single(await Database.EventsAsync(), e => e.ChatId == chatId);
        Assert.Equal((EventTypes.MessageCreated, 4L), (stored.Type, stored.ChatSeq));
        Assert.Equal(message, new ConversationMessage(
            (long)stored.Data["Seq"]!, (Guid)stored.Data["Id"]!, (string)stored.Data["SenderRole"]! == "visitor" ? ParticipantRole.Visitor : ParticipantRole.Commercial,
            (Guid)stored.Data["SenderId"]!, (string)stored.Data["Text"]!, DateTimeOffset.Parse((string)stored.Data["SentAt"]!, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal([message], await Log.ReadAsync(chatId, 1, 9));
    }
}

[Trait("Category", "Storage")]
public sealed class PostgresMessageLogContractTests(PostgresNodeFixture fixture)
    : MessageLogContract(fixture.Node), IClassFixture<PostgresNodeFixture>
{
    /// <summary>
    /// Appends ride the shared write batches: a batch of many chats' messages stores each, and one
    /// whose sequence number was taken fails alone, not its neighbours.
    /// </summary>
    [Fact]
    public async Task AConflictInABatchOfAppendsFailsThatAppendAlone()
    {
        await using var own = BatchedStorage.Of(fixture.Node, new PostgresGrainStorageOptions { ConcurrentBatches = 1 });
        var log = new PostgresMessageLog(fixture.Node.Services.GetRequiredService<NpgsqlDataSource>(), own.Batches);
        var taken = Guid.NewGuid();
        await log.AppendAsync(taken, Message(1), 1);
        await using var held = await HeldExecutor.HoldAsync(own.Storage, (PostgresDatabase)Database);

        var chats = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToArray();
        var appends = chats.Select(chatId => log.AppendAsync(chatId, Message(1), 1)).ToArray();
        var conflict = log.AppendAsync(taken, Message(1), 2);
        await held.ReleaseAsync();

        Assert.All(await Task.WhenAll(appends), Assert.Null);
        await Assert.ThrowsAsync<InconsistentStateException>(() => conflict);
        foreach (var chatId in chats)
        {
            Assert.Equal(1, await Database.CountAsync("chat_messages", "chat_id", chatId));
        }
    }
}

[Trait("Category", "Storage")]
public sealed class SqliteMessageLogContractTests(SqliteNodeFixture fixture)
    : MessageLogContract(fixture.Node), IClassFixture<SqliteNodeFixture>;
