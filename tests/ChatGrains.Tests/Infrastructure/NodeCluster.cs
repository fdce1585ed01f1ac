namespace ChatGrains.Tests.Infrastructure;

/// <summary>
/// N real nodes on one PostgreSQL database, forming one Orleans cluster through its membership
/// table: each node a real Kestrel server co-hosting a silo,
/// on its own loopback ports. Disposal stops every node, then drops the database.
/// </summary>
public sealed class NodeCluster : IAsyncDisposable
{
    private readonly List<TestNode> _nodes = [];

    private readonly IReadOnlyDictionary<string, string?>? _settings;

    private NodeCluster(PostgresDatabase database, IReadOnlyDictionary<string, string?>? settings)
    {
        Database = database;
        _settings = settings;
    }

    public PostgresDatabase Database { get; }

    public IReadOnlyList<TestNode> Nodes => _nodes;

    public static async Task<NodeCluster> StartAsync(int nodeCount = 3, PostgresServer? server = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        server ??= await PostgresServer.Shared;
        var cluster = new NodeCluster(await server.CreateDatabaseAsync(), settings);
        try
        {
            // Started together, as a deployment would: they race for the migrations.
            var nodes = await Task.WhenAll(Enumerable.Range(0, nodeCount).Select(_ => TestNode.StartOnPostgresAsync(cluster.Database, settings)));
            cluster._nodes.AddRange(nodes);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async Task<TestNode> StartNodeAsync()
    {
        var node = await TestNode.StartOnPostgresAsync(Database, _settings);
        _nodes.Add(node);
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var node in _nodes)
            {
                await node.DisposeAsync();
            }
        }
        finally
        {
            await Database.DisposeAsync();
        }
    }
}

/// <summary>One three-node cluster shared by the tests of a collection.</summary>
public sealed class NodeClusterFixture : IAsyncLifetime
{
    public NodeCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await NodeCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class NodeClusterCollection : ICollectionFixture<NodeClusterFixture>
{
    public const string Name = "three-node cluster";
}
