using System.Diagnostics;
using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace ChatGrains.Tests.Grains;

/// <summary>
/// A chat outlives the silo that hosted it: the next call activates it on another silo, which
/// reads the stored record. Each test kills or stops a silo, so each starts a cluster (and
/// database) of its own.
/// </summary>
[Trait("Category", "Grains")]
public sealed class SiloFailureTests(ITestOutputHelper output)
{
    [Fact]
    public Task AChatWhoseSiloIsKilledIsReactivatedOnAnotherSiloWithItsStoredRecord() =>
        ChatSurvivesItsSiloAsync(killed: true, (cluster, silo) => cluster.KillSiloAsync(silo));

    [Fact]
    public Task AChatWhoseSiloStopsGracefullyIsReactivatedOnAnotherSiloWithItsStoredRecord() =>
        ChatSurvivesItsSiloAsync(killed: false, (cluster, silo) => cluster.StopSiloAsync(silo));

    private async Task ChatSurvivesItsSiloAsync(bool killed, Func<InProcessTestCluster, InProcessSiloHandle, Task> end)
    {
        await using var cluster = await GrainCluster.StartAsync();
        var id = Guid.NewGuid();
        var creator = cluster.Silos[1];
        var chat = cluster.GrainsOf(creator).GetGrain<IChatGrain>(id);
        var created = await chat.CreateOrGet(GrainCommands.Chat("visitor before"));
        Assert.True(created.Created);
        // The creating activation deactivates at once (GrainLifetimes); one that reads it back stays.
        GrainCommands.AssertSameRecord(created.Chat, (await chat.Current())!);
        var hostAddress = cluster.HostOf(chat);
        // [PreferLocalPlacement]: the silo whose factory called first hosts the chat.
        Assert.Equal(creator.SiloAddress, hostAddress);
        Assert.Equal([EventTypes.ChatCreated], await cluster.Database.ChatEventTypesAsync(id));

        var clock = Stopwatch.StartNew();
        await end(cluster.Cluster, creator);
        var ended = clock.Elapsed;
        await cluster.Cluster.WaitForLivenessToStabilizeAsync(didKill: killed);
        var stabilized = clock.Elapsed;
        Assert.DoesNotContain(cluster.Silos, s => s.SiloAddress.Equals(hostAddress));
        var survivor = cluster.Silos[^1];
        var again = await cluster.GrainsOf(survivor).GetGrain<IChatGrain>(id).CreateOrGet(GrainCommands.Chat("visitor after"));
        output.WriteLine($"{(killed ? "kill" : "graceful stop")} took {ended.TotalSeconds:F1} s, liveness stable after {stabilized.TotalSeconds:F1} s, next call answered after {clock.Elapsed.TotalSeconds:F1} s");

        Assert.False(again.Created);
        Assert.Equal(created.Chat.CreatedAt, again.Chat.CreatedAt);
        Assert.Equal(created.Chat.VisitorId, again.Chat.VisitorId);
        Assert.Equal("visitor before", again.Chat.Visitor.Name);
        GrainCommands.AssertSameRecord(created.Chat, again.Chat);
        Assert.Equal(survivor.SiloAddress, cluster.HostOf(chat));
        Assert.Equal(1, await cluster.Database.GrainRecordsAsync(GrainStorage.Chat, id));
        Assert.Equal([EventTypes.ChatCreated], await cluster.Database.ChatEventTypesAsync(id));
    }
}
