using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Operators;

/// <summary>The dashboard credentials the operator tests configure.</summary>
public static class DashboardCredentials
{
    public const string Username = "ops";
    public const string Password = "correct horse battery staple";

    public static Dictionary<string, string?> Settings(IReadOnlyDictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Dashboard:Username"] = Username,
            ["Dashboard:Password"] = Password,
            // The operator tests guard /metrics too.
            [TestNode.MetricsOn.Key] = TestNode.MetricsOn.Value,
        };
        foreach (var (key, value) in more ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }
}

/// <summary>Two SQLite nodes: one with no dashboard credentials (loopback may be "truly local"), one with Basic configured.</summary>
public sealed class OpenAndBasicNodesFixture : IAsyncLifetime
{
    public TestNode Open { get; private set; } = null!;

    public TestNode WithBasic { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var nodes = await Task.WhenAll(TestNode.StartOnSqliteAsync(new Dictionary<string, string?>([TestNode.MetricsOn])), TestNode.StartOnSqliteAsync(DashboardCredentials.Settings()));
        (Open, WithBasic) = (nodes[0], nodes[1]);
    }

    public async Task DisposeAsync()
    {
        await Open.DisposeAsync();
        await WithBasic.DisposeAsync();
    }
}

/// <summary>
/// Three nodes on one PostgreSQL with Basic configured, so loopback alone opens nothing (a
/// browser on this machine must sign in). Shared by the cluster dashboard and browser tests.
/// </summary>
public sealed class OperatorClusterFixture : IAsyncLifetime
{
    public NodeCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await NodeCluster.StartAsync(nodeCount: 3, settings: DashboardCredentials.Settings());

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class OperatorClusterCollection : ICollectionFixture<OperatorClusterFixture>
{
    public const string Name = "three-node cluster with dashboard credentials";
}
