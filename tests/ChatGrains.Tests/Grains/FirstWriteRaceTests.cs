using System.Diagnostics;
using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace ChatGrains.Tests.Grains;

/// <summary>
/// The race migration 0004 fixes: two activations of one grain (possible while the membership
/// changes) both write its first record. The vendored script inserted twice; with the unique
/// index one write wins and the other is told <see cref="InconsistentStateException"/>.
/// The storage providers are the silos' own (one <c>AdoNetGrainStorage</c> and connection pool per silo).
/// </summary>
[Collection(GrainClusterCollection.Name)]
[Trait("Category", "Grains")]
public sealed class FirstWriteRaceTests(GrainClusterFixture fixture, ITestOutputHelper output)
{
    private const int Races = 200;

    private GrainCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task TwoProvidersRacingTheFirstWriteOfAGrainTwoHundredTimesAlwaysStoreOneRowAndTellTheLoserInconsistentState()
    {
        var left = StorageOf(Cluster.Silos[0]);
        var right = StorageOf(Cluster.Silos[1]);
        var reader = StorageOf(Cluster.Silos[2]);
        Assert.NotSame(left, right);
        var grains = Cluster.GrainsOf(Cluster.Silos[0]);
        var overlapping = 0;
        var elapsed = Stopwatch.StartNew();

        for (var race = 0; race < Races; race++)
        {
            var id = Guid.NewGuid();
            var grainId = grains.GetGrain<IChatGrain>(id).GetGrainId();
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var leftWrite = WriteAsync(left, grainId, StateOf(id, "left writer"), "left writer", gate.Task);
            var rightWrite = WriteAsync(right, grainId, StateOf(id, "right writer"), "right writer", gate.Task);
            gate.SetResult();
            var writes = await Task.WhenAll(leftWrite, rightWrite);

            var winner = Assert.Single(writes, w => w.Error is null);
            var loser = Assert.Single(writes, w => w.Error is not null);
            Assert.True(loser.Error is InconsistentStateException, $"Race {race}: the losing write threw {loser.Error}");
            Assert.Equal("1", winner.State.ETag);
            Assert.True(winner.State.RecordExists);
            Assert.Null(loser.State.ETag);
            Assert.Equal(1, await Cluster.Database.GrainRecordsAsync(GrainStorage.Chat, id));
            var stored = new GrainState<CreatedOnce<Chat>>(new CreatedOnce<Chat>());
            await reader.ReadStateAsync(GrainStorage.Chat, grainId, stored);
            Assert.True(stored.RecordExists);
            Assert.Equal("1", stored.ETag);
            Assert.Equal(winner.Visitor, stored.State?.Value?.Visitor.Name);
            if (writes[0].Started < writes[1].Ended && writes[1].Started < writes[0].Ended)
            {
                overlapping++;
            }
        }

        output.WriteLine($"{Races} races in {elapsed.Elapsed.TotalSeconds:F1} s, {overlapping} with both writes in flight at once");
        // The test itself: its writes did race (both in flight at once), not merely run one after the other.
        Assert.True(overlapping >= Races / 4, $"Only {overlapping} of {Races} races had both writes in flight at once.");
    }

    [Fact]
    public async Task TheStorageTableKeepsOneRowPerGrainThroughAUniqueIndexInsteadOfTheVendoredOne()
    {
        var indexes = await Cluster.Database.StringsAsync("SELECT indexname FROM pg_indexes WHERE tablename = 'orleansstorage'");

        Assert.Contains("orleansstorage_one_row_per_grain", indexes);
        Assert.DoesNotContain("ix_orleansstorage", indexes);
        Assert.Equal(["True"], await Cluster.Database.StringsAsync(
            "SELECT indisunique FROM pg_index WHERE indexrelid = 'orleansstorage_one_row_per_grain'::regclass"));
    }

    [Fact]
    public async Task TheDatabaseRefusesASecondRowForAStoredGrain()
    {
        var id = Guid.NewGuid();
        Assert.True((await Cluster.GrainsOf(Cluster.Silos[0]).GetGrain<IChatGrain>(id).CreateOrGet(GrainCommands.Chat("only visitor"))).Created);
        var n0 = BitConverter.ToInt64(id.ToByteArray(), 0);
        var n1 = BitConverter.ToInt64(id.ToByteArray(), 8);

        // What the vendored script's INSERT … WHERE NOT EXISTS did when two first writes raced.
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => Cluster.Database.ExecuteAsync(
            $"INSERT INTO orleansstorage SELECT * FROM orleansstorage WHERE graintypestring = 'chat' AND grainidn0 = {n0} AND grainidn1 = {n1}"));

        Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
        Assert.Equal("orleansstorage_one_row_per_grain", duplicate.ConstraintName);
        Assert.Equal(1, await Cluster.Database.GrainRecordsAsync(GrainStorage.Chat, id));
    }

    private static IGrainStorage StorageOf(InProcessSiloHandle silo) =>
        silo.ServiceProvider.GetRequiredKeyedService<IGrainStorage>(GrainStorage.Name);

    private static GrainState<CreatedOnce<Chat>> StateOf(Guid id, string visitor)
    {
        var command = GrainCommands.Chat(visitor);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var chat = new Chat(id, ChatStatus.Pending, command.Priority, command.VisitorId, null, command.AvailableCommercialIds,
            0, 0, true, command.Visitor, command.Metadata, now, now);
        return new GrainState<CreatedOnce<Chat>>(new CreatedOnce<Chat> { Value = chat });
    }

    private static Task<Write> WriteAsync(IGrainStorage storage, GrainId grainId, GrainState<CreatedOnce<Chat>> state, string visitor, Task gate) =>
        Task.Run(async () =>
        {
            await gate;
            var started = Stopwatch.GetTimestamp();
            try
            {
                await storage.WriteStateAsync(GrainStorage.Chat, grainId, state);
                return new Write(state, visitor, null, started, Stopwatch.GetTimestamp());
            }
            catch (Exception exception)
            {
                return new Write(state, visitor, exception, started, Stopwatch.GetTimestamp());
            }
        });

    private sealed record Write(GrainState<CreatedOnce<Chat>> State, string Visitor, Exception? Error, long Started, long Ended);
}
