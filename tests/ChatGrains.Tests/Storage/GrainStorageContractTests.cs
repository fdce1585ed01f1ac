using System.Globalization;
using ChatGrains.Grains;
using ChatGrains.Silo.Postgres;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace ChatGrains.Tests.Storage;

/// <summary>A grain state as simple as the storage contract needs.</summary>
public sealed class ContractState
{
    public string? Text { get; set; }

    public int Number { get; set; }
}

/// <summary>
/// What every grain storage choice must do, run on each (<c>IGrainStorage</c> as the node's silo
/// uses it): a record's versions (ETags), conflicts between activations, clearing, and keys of
/// every shape. The grains' idempotency and their "one record, one winner" guarantees rest on it.
/// </summary>
public abstract class GrainStorageContract(TestNode node)
{
    protected const string StateName = "contract";

    protected IGrainStorage Storage => node.Services.GetRequiredKeyedService<IGrainStorage>(GrainStorage.Name);

    protected ITestDatabase Database => node.Database;

    protected static GrainId GuidGrain(Guid id, string? extension = null) =>
        GrainId.Create(GrainType.Create("contract"), GrainIdKeyExtensions.CreateGuidKey(id, extension));

    protected static GrainState<ContractState> State(string text, string? etag = null) =>
        new(new ContractState { Text = text, Number = text.Length }) { ETag = etag };

    [Fact]
    public async Task AGrainNeverWrittenReadsAsANewStateWithNoETagAndNoRecord()
    {
        var read = new GrainState<ContractState>();

        await Storage.ReadStateAsync(StateName, GuidGrain(Guid.NewGuid()), read);

        Assert.NotNull(read.State);
        Assert.Null(read.State!.Text);
        Assert.Null(read.ETag);
        Assert.False(read.RecordExists);
    }

    [Fact]
    public async Task AFirstWriteStoresOneRecordAtVersionOneThatAReadGivesBack()
    {
        var id = Guid.NewGuid();
        var written = State("first");

        await Storage.WriteStateAsync(StateName, GuidGrain(id), written);

        Assert.Equal("1", written.ETag);
        Assert.True(written.RecordExists);
        var read = await ReadAsync(GuidGrain(id));
        Assert.Equal(("first", 5, "1", true), (read.State!.Text, read.State!.Number, read.ETag, read.RecordExists));
        Assert.Equal(1, await Database.GrainRecordsAsync(StateName, id));
        Assert.Equal("first", (string?)Assert.Single(await Database.GrainPayloadsAsync(StateName, id))["Text"]);
    }

    [Fact]
    public async Task AWriteUnderTheCurrentETagStoresTheNextVersion()
    {
        var id = Guid.NewGuid();
        var state = State("first");
        await Storage.WriteStateAsync(StateName, GuidGrain(id), state);

        state.State!.Text = "second";
        await Storage.WriteStateAsync(StateName, GuidGrain(id), state);

        Assert.Equal("2", state.ETag);
        var read = await ReadAsync(GuidGrain(id));
        Assert.Equal(("second", "2"), (read.State!.Text, read.ETag));
        Assert.Equal(1, await Database.GrainRecordsAsync(StateName, id));
    }

    [Fact]
    public async Task AWriteUnderAStaleETagIsRefusedAsInconsistentStateAndChangesNothing()
    {
        var id = Guid.NewGuid();
        var first = State("first");
        await Storage.WriteStateAsync(StateName, GuidGrain(id), first);
        var other = await ReadAsync(GuidGrain(id));
        other.State!.Text = "other activation";
        await Storage.WriteStateAsync(StateName, GuidGrain(id), other);

        first.State!.Text = "stale";
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, GuidGrain(id), first));

        Assert.Equal("1", first.ETag);
        var read = await ReadAsync(GuidGrain(id));
        Assert.Equal(("other activation", "2"), (read.State!.Text, read.ETag));
    }

    [Fact]
    public async Task AFirstWriteOfAGrainWhoseRecordAnotherActivationStoredIsRefused()
    {
        var id = Guid.NewGuid();
        await Storage.WriteStateAsync(StateName, GuidGrain(id), State("winner"));

        var late = State("late");
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, GuidGrain(id), late));

        Assert.Null(late.ETag);
        Assert.Equal("winner", (await ReadAsync(GuidGrain(id))).State!.Text);
        Assert.Equal(1, await Database.GrainRecordsAsync(StateName, id));
    }

    [Fact]
    public async Task FirstWritesOfOneGrainRacingStoreOneRecordAndRefuseEveryOtherWriter()
    {
        for (var race = 0; race < 20; race++)
        {
            var id = Guid.NewGuid();
            var writers = Enumerable.Range(0, 4).Select(i => State($"writer {i}")).ToArray();

            var outcomes = await Task.WhenAll(writers.Select(async writer =>
            {
                try
                {
                    await Storage.WriteStateAsync(StateName, GuidGrain(id), writer);
                    return null;
                }
                catch (Exception exception)
                {
                    return exception;
                }
            }));

            var winner = Assert.Single(writers.Where((_, i) => outcomes[i] is null));
            Assert.All(outcomes.Where(o => o is not null), o => Assert.IsType<InconsistentStateException>(o));
            Assert.Equal(1, await Database.GrainRecordsAsync(StateName, id));
            Assert.Equal(winner.State!.Text, (await ReadAsync(GuidGrain(id))).State!.Text);
        }
    }

    [Fact]
    public async Task ClearingARecordLeavesNoRecordUnderANewVersionAndTheGrainCanBeWrittenAgain()
    {
        var id = Guid.NewGuid();
        var state = State("to clear");
        await Storage.WriteStateAsync(StateName, GuidGrain(id), state);

        await Storage.ClearStateAsync(StateName, GuidGrain(id), state);

        Assert.Equal("2", state.ETag);
        Assert.False(state.RecordExists);
        Assert.Null(state.State!.Text);
        var read = await ReadAsync(GuidGrain(id));
        Assert.Equal((null, "2", false), (read.State!.Text, read.ETag, read.RecordExists));

        state.State!.Text = "again";
        await Storage.WriteStateAsync(StateName, GuidGrain(id), state);
        Assert.Equal(("again", "3"), ((await ReadAsync(GuidGrain(id))).State!.Text, state.ETag));
    }

    [Fact]
    public async Task ClearingAGrainThatWasNeverWrittenStoresNothing()
    {
        var id = Guid.NewGuid();

        await Storage.ClearStateAsync(StateName, GuidGrain(id), new GrainState<ContractState>());

        Assert.Equal(0, await Database.GrainRecordsAsync(StateName, id));
    }

    [Fact]
    public async Task StringKeysAndKeyExtensionsAddressRecordsOfTheirOwn()
    {
        var id = Guid.NewGuid();
        var text = $"text-key:{Guid.NewGuid():N}";
        var plain = GuidGrain(id);
        var extended = GuidGrain(id, "ext");
        var stringKeyed = GrainId.Create(GrainType.Create("contract"), IdSpan.Create(text));

        await Storage.WriteStateAsync(StateName, plain, State("plain"));
        await Storage.WriteStateAsync(StateName, extended, State("extended"));
        await Storage.WriteStateAsync(StateName, stringKeyed, State("string keyed"));

        Assert.Equal("plain", (await ReadAsync(plain)).State!.Text);
        Assert.Equal("extended", (await ReadAsync(extended)).State!.Text);
        Assert.Equal("string keyed", (await ReadAsync(stringKeyed)).State!.Text);
        Assert.Equal(1, await Database.GrainRecordsAsync(StateName, id));
        Assert.Equal(1, await Database.GrainRecordsAsync(StateName, text));
    }

    [Fact]
    public async Task HundredsOfConcurrentFirstWritesOfDifferentGrainsAreEachStoredOnce()
    {
        var ids = Enumerable.Range(0, 300).Select(_ => Guid.NewGuid()).ToArray();
        var states = ids.Select(id => State(id.ToString())).ToArray();

        await Task.WhenAll(ids.Select((id, i) => Storage.WriteStateAsync(StateName, GuidGrain(id), states[i])));

        Assert.All(states, state => Assert.Equal("1", state.ETag));
        var reads = await Task.WhenAll(ids.Select(id => ReadAsync(GuidGrain(id))));
        Assert.Equal(ids.Select(id => id.ToString()), reads.Select(read => read.State!.Text));
    }

    protected async Task<GrainState<ContractState>> ReadAsync(GrainId grain)
    {
        var read = new GrainState<ContractState>();
        await Storage.ReadStateAsync(StateName, grain, read);
        return read;
    }
}

/// <summary>The default on PostgreSQL: <see cref="PostgresGrainStorage"/>, statements of concurrent activations batched.</summary>
[Trait("Category", "Storage")]
public sealed class BatchedPostgresStorageContractTests(PostgresNodeFixture fixture)
    : GrainStorageContract(fixture.Node), IClassFixture<PostgresNodeFixture>
{
    [Fact]
    public void TheNodeUsesTheBatchedProvider() => Assert.IsType<PostgresGrainStorage>(Storage);

    /// <summary>
    /// A write held by a row lock stops the only batch executor; the writes queued behind it then
    /// go as one batch, in which one statement fails (a state name longer than the column allows).
    /// </summary>
    [Fact]
    public async Task AStatementThatFailsInABatchFailsAloneAndItsNeighboursAreStored()
    {
        await using var own = BatchedStorage.Of(fixture.Node, new PostgresGrainStorageOptions { ConcurrentBatches = 1 });
        var storage = own.Storage;
        await using var held = await HeldExecutor.HoldAsync(own.Storage, (PostgresDatabase)Database);

        var neighbours = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToArray();
        var neighbourWrites = neighbours.Select(id => storage.WriteStateAsync(StateName, GuidGrain(id), State("neighbour"))).ToArray();
        var tooLong = storage.WriteStateAsync(new string('x', 600), GuidGrain(Guid.NewGuid()), State("bad"));
        await held.ReleaseAsync();

        await Task.WhenAll(neighbourWrites);
        var failure = await Assert.ThrowsAsync<PostgresException>(() => tooLong);
        Assert.Equal(PostgresErrorCodes.StringDataRightTruncation, failure.SqlState);
        foreach (var id in neighbours)
        {
            Assert.Equal("neighbour", (await ReadAsync(GuidGrain(id))).State!.Text);
        }
    }

    /// <summary>
    /// Offers and grain records share the write batches: a batch mixing them answers each
    /// statement with its own result (a statement answered with its neighbour's row would report
    /// a conflict for a write that was stored).
    /// </summary>
    [Fact]
    public async Task OffersAndGrainRecordsInOneBatchAreEachAnsweredWithTheirOwnResult()
    {
        await using var own = BatchedStorage.Of(fixture.Node, new PostgresGrainStorageOptions { ConcurrentBatches = 1 });
        var offers = new PostgresOfferBook(fixture.Node.Services.GetRequiredService<NpgsqlDataSource>(), own.Batches);
        await using var held = await HeldExecutor.HoldAsync(own.Storage, (PostgresDatabase)Database);

        var commercial = Guid.NewGuid();
        var chats = Enumerable.Range(0, 20).Select(_ => Guid.NewGuid()).ToArray();
        var states = chats.Select(id => State(id.ToString())).ToArray();
        var writes = new List<Task>();
        for (var i = 0; i < chats.Length; i++)
        {
            writes.Add(offers.RecordAsync(chats[i], [commercial]));
            writes.Add(own.Storage.WriteStateAsync(StateName, GuidGrain(chats[i]), states[i]));
        }
        writes.Add(offers.WithdrawAsync(chats[0], [commercial]));
        await held.ReleaseAsync();

        await Task.WhenAll(writes);
        Assert.All(states, state => Assert.Equal("1", state.ETag));
        Assert.Equal(chats.Length - 1, await Database.CountAsync("chat_offers", "commercial_id", commercial));
    }

    /// <summary>
    /// A creation is one statement (<see cref="ChatStorageFeatures"/>): the record's insert stores
    /// the new chat's offers and deadline, and an insert that finds the chat stored by another
    /// activation stores none of its own.
    /// </summary>
    [Fact]
    public async Task ANewChatsOffersAndDeadlineAreStoredByItsRecordsInsertAndByNoLosingOne()
    {
        Assert.True(fixture.Node.Services.GetRequiredService<ChatStorageFeatures>().StoresNewChatRows);
        var chatId = Guid.NewGuid();
        var grain = GrainId.Create(GrainType.Create("chat"), GrainIdKeyExtensions.CreateGuidKey(chatId));
        var (winner, loser) = (Guid.NewGuid(), Guid.NewGuid());
        var dueAt = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        GrainState<ChatRecord> NewChat(Guid commercial, DateTimeOffset unansweredAt) =>
            new(new ChatRecord { NewChatRows = new NewChatRows(chatId, [commercial], unansweredAt) });

        var first = NewChat(winner, dueAt);
        await Storage.WriteStateAsync(GrainStorage.Chat, grain, first);
        var late = NewChat(loser, dueAt.AddHours(1));
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(GrainStorage.Chat, grain, late));

        Assert.Equal("1", first.ETag);
        Assert.Null(first.State!.NewChatRows);
        Assert.Equal(1, await Database.CountAsync("chat_offers", "chat_id", chatId));
        Assert.Equal(1, await Database.CountAsync("chat_offers", "commercial_id", winner));
        Assert.Equal(0, await Database.CountAsync("chat_offers", "commercial_id", loser));
        Assert.Equal([dueAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)],
            await Database.StringsAsync($"SELECT extract(epoch FROM due_at)::bigint::text FROM chat_deadlines WHERE chat_id = '{chatId}'"));
    }
}

/// <summary>Orleans' ADO.NET provider on PostgreSQL (<c>Storage:Postgres:GrainStorage=AdoNet</c>), on the same rows as the batched one.</summary>
[Trait("Category", "Storage")]
public sealed class AdoNetPostgresStorageContractTests(AdoNetPostgresNodeFixture fixture)
    : GrainStorageContract(fixture.Node), IClassFixture<AdoNetPostgresNodeFixture>
{
    [Fact]
    public void TheNodeUsesTheAdoNetProvider() => Assert.IsType<AdoNetGrainStorage>(Storage);

    [Fact]
    public async Task EachProviderReadsAndUpdatesWhatTheOtherWrote()
    {
        await using var own = BatchedStorage.Of(fixture.Node, new PostgresGrainStorageOptions());
        var batched = own.Storage;
        var id = Guid.NewGuid();
        var state = State("by ADO.NET");
        await Storage.WriteStateAsync(StateName, GuidGrain(id), state);

        var readByBatched = new GrainState<ContractState>();
        await batched.ReadStateAsync(StateName, GuidGrain(id), readByBatched);
        Assert.Equal(("by ADO.NET", "1", true), (readByBatched.State!.Text, readByBatched.ETag, readByBatched.RecordExists));

        readByBatched.State!.Text = "by the batched provider";
        await batched.WriteStateAsync(StateName, GuidGrain(id), readByBatched);
        Assert.Equal(("by the batched provider", "2"), ((await ReadAsync(GuidGrain(id))).State!.Text, readByBatched.ETag));

        // Each refuses the other's stale version.
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteStateAsync(StateName, GuidGrain(id), state));
        Assert.Equal(1, await Database.GrainRecordsAsync(StateName, id));
    }
}

/// <summary>Orleans' ADO.NET provider on the embedded SQLite file (a single node's default).</summary>
[Trait("Category", "Storage")]
public sealed class AdoNetSqliteStorageContractTests(SqliteNodeFixture fixture)
    : GrainStorageContract(fixture.Node), IClassFixture<SqliteNodeFixture>;

/// <summary>A node on PostgreSQL with Orleans' ADO.NET grain storage instead of the batched one.</summary>
public sealed class AdoNetPostgresNodeFixture : IAsyncLifetime
{
    private PostgresDatabase _database = null!;

    public TestNode Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await (await PostgresServer.Shared).CreateDatabaseAsync();
        Node = await TestNode.StartOnPostgresAsync(_database, new Dictionary<string, string?> { ["Storage:Postgres:GrainStorage"] = "AdoNet" });
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await _database.DisposeAsync();
    }
}

/// <summary>A batched provider of the test's own on a node's data source, with batchers of its own.</summary>
internal sealed class BatchedStorage(PostgresGrainStorage storage, PostgresBatches batches) : IAsyncDisposable
{
    public PostgresGrainStorage Storage { get; } = storage;

    public PostgresBatches Batches { get; } = batches;

    public static BatchedStorage Of(TestNode node, PostgresGrainStorageOptions options)
    {
        var services = node.Services;
        var batches = new PostgresBatches(services.GetRequiredService<NpgsqlDataSource>(), options);
        return new BatchedStorage(new PostgresGrainStorage("contract-own", batches, services.GetRequiredService<IOptions<ClusterOptions>>().Value,
            services.GetRequiredService<IGrainStorageSerializer>(), services.GetRequiredService<IActivatorProvider>()), batches);
    }

    public ValueTask DisposeAsync() => Batches.DisposeAsync();
}

/// <summary>
/// Stops a one-executor batched storage: its write to a row another transaction holds locked
/// keeps the only executor waiting, so what is queued meanwhile goes as one batch on release.
/// </summary>
internal sealed class HeldExecutor : IAsyncDisposable
{
    private readonly NpgsqlConnection _locker;
    private readonly NpgsqlTransaction _lock;
    private readonly Task _blocked;

    private HeldExecutor(NpgsqlConnection locker, NpgsqlTransaction @lock, Task blocked) => (_locker, _lock, _blocked) = (locker, @lock, blocked);

    public static async Task<HeldExecutor> HoldAsync(PostgresGrainStorage storage, PostgresDatabase database)
    {
        var held = Guid.NewGuid();
        var grain = GrainId.Create(GrainType.Create("contract"), GrainIdKeyExtensions.CreateGuidKey(held));
        var state = new GrainState<ContractState>(new ContractState { Text = "held" });
        await storage.WriteStateAsync("contract", grain, state);
        var locker = new NpgsqlConnection(database.ConnectionString);
        await locker.OpenAsync();
        var @lock = await locker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("UPDATE orleansstorage SET version = version WHERE graintypestring = 'contract' AND grainidn0 = $1", locker, @lock))
        {
            lockRow.Parameters.Add(new NpgsqlParameter<long> { TypedValue = BitConverter.ToInt64(held.ToByteArray(), 0) });
            Assert.Equal(1, await lockRow.ExecuteNonQueryAsync());
        }
        state.State!.Text = "after the lock";
        var blocked = storage.WriteStateAsync("contract", grain, state);
        await WaitForLockWaitAsync(database);
        return new HeldExecutor(locker, @lock, blocked);
    }

    /// <summary>Lets the held write (and so the batch queued behind it) go.</summary>
    public async Task ReleaseAsync()
    {
        await _lock.CommitAsync();
        await _blocked;
    }

    public async ValueTask DisposeAsync()
    {
        await _lock.DisposeAsync();
        await _locker.DisposeAsync();
    }

    private static async Task WaitForLockWaitAsync(PostgresDatabase database)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await database.StringsAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))[0] == "0")
        {
            Assert.True(DateTime.UtcNow < deadline, "The held write never waited for the row lock.");
            await Task.Delay(20);
        }
    }
}
