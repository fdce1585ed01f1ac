using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Grains;

/// <summary>Many first commands for one new grain, from every silo at once, create it once.</summary>
[Collection(GrainClusterCollection.Name)]
[Trait("Category", "Grains")]
public sealed class ConcurrentCreationTests(GrainClusterFixture fixture)
{
    private const int CallsPerSilo = 20;

    private GrainCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task TwentyConcurrentCreateOrGetsFromEachSiloCreateOneChatAndAllGetThatChat()
    {
        var id = Guid.NewGuid();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Cluster.Silos
            .SelectMany((silo, s) => Enumerable.Range(0, CallsPerSilo).Select(i => (Grains: Cluster.GrainsOf(silo), Visitor: $"visitor {s}-{i}")))
            .Select(call => Task.Run(async () =>
            {
                await gate.Task;
                return await call.Grains.GetGrain<IChatGrain>(id).CreateOrGet(GrainCommands.Chat(call.Visitor));
            }))
            .ToList();
        gate.SetResult();

        var results = await Task.WhenAll(calls);

        Assert.Equal(Cluster.Silos.Count * CallsPerSilo, results.Length);
        var created = Assert.Single(results, r => r.Created);
        Assert.All(results, r => GrainCommands.AssertSameRecord(created.Chat, r.Chat));
        Assert.Equal(1, await Cluster.Database.GrainRecordsAsync(GrainStorage.Chat, id));
        var stored = Assert.Single(await Cluster.Database.EventsAsync(), e => e.ChatId == id);
        Assert.Equal(EventTypes.ChatCreated, stored.Type);
        Assert.Equal(created.Chat.VisitorId, (Guid?)stored.Data["VisitorId"]);
    }

    [Fact]
    public async Task TwentyConcurrentOpensFromEachSiloOpenOneGuestSessionAndAllGetThatSession()
    {
        var key = $"session-{Guid.NewGuid():N}";
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Cluster.Silos
            .SelectMany((silo, s) => Enumerable.Range(0, CallsPerSilo).Select(i => (Grains: Cluster.GrainsOf(silo), Guest: $"guest {s}-{i}")))
            .Select(call => Task.Run(async () =>
            {
                await gate.Task;
                return await call.Grains.GetGrain<IGuestSessionGrain>(key).Open(GrainCommands.GuestSession(call.Guest));
            }))
            .ToList();
        gate.SetResult();

        var results = await Task.WhenAll(calls);

        var opened = Assert.Single(results, r => r.Created);
        Assert.All(results, r => GrainCommands.AssertSameRecord(opened.Session, r.Session));
        Assert.Equal(1, await Cluster.Database.GrainRecordsAsync(GrainStorage.GuestSession, key));
        Assert.Single(await Cluster.Database.EventsAboutAsync(EventTypes.GuestSessionStarted, data => (string?)data["Session"]!["SessionKey"] == key));
    }
}
