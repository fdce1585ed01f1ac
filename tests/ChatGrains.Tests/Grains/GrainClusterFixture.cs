namespace ChatGrains.Tests.Grains;

/// <summary>One three-silo cluster for the grain tests that leave it as they found it.</summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    public GrainCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await GrainCluster.StartAsync();

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GrainClusterCollection : ICollectionFixture<GrainClusterFixture>
{
    public const string Name = "grain cluster";
}
