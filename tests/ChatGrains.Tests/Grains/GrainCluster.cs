using System.Text.Json;
using ChatGrains.Silo;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.TestingHost;

namespace ChatGrains.Tests.Grains;

/// <summary>
/// Orleans' in-process test cluster whose silos are configured as production's
/// (<see cref="ChatGrainsSilo.AddChatGrains"/>: ADO.NET storage, migrations, streams, timeouts)
/// on a PostgreSQL database of its own; only membership and transport are the test cluster's.
/// Disposal stops every silo, then drops the database.
/// </summary>
public sealed class GrainCluster : IAsyncDisposable
{
    private GrainCluster(InProcessTestCluster cluster, PostgresDatabase database)
    {
        Cluster = cluster;
        Database = database;
    }

    public InProcessTestCluster Cluster { get; }

    public PostgresDatabase Database { get; }

    public IReadOnlyList<InProcessSiloHandle> Silos => Cluster.Silos;

    public static async Task<GrainCluster> StartAsync(short silos = 3)
    {
        var database = await (await PostgresServer.Shared).CreateDatabaseAsync();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:ChatGrains"] = database.ConnectionString })
            .Build();
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) => silo.AddChatGrains(configuration));
        // The cluster's own client (which the test cluster needs to deploy and watch membership)
        // must know the serializers the silos use; AddChatGrains configures silos only.
        builder.ConfigureClient(client => client.Services.AddChatGrainsSerialization());
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
            // DeployAsync's own wait for a consistent view can give up early; wait until every silo sees every other.
            await cluster.WaitForLivenessToStabilizeAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            await database.DisposeAsync();
            throw;
        }
        return new GrainCluster(cluster, database);
    }

    /// <summary>The grain factory of a silo: calls from it are placed as the HTTP edge's calls on that node are.</summary>
    public IGrainFactory GrainsOf(InProcessSiloHandle silo) =>
        Cluster.GetSiloServiceProvider(silo.SiloAddress).GetRequiredService<IGrainFactory>();

    /// <summary>The silo holding the grain's activation, if it is active anywhere.</summary>
    public SiloAddress? HostOf(IAddressable grain) =>
        Cluster.TryGetGrainContext(grain.GetGrainId(), out var context) ? context.Address.SiloAddress : null;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Cluster.DisposeAsync();
        }
        finally
        {
            await Database.DisposeAsync();
        }
    }
}
