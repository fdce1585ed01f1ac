
namespace ChatGrains.Tests.Infrastructure;

/// <summary>A single node on embedded SQLite, shared by one test class.</summary>
public sealed class SqliteNodeFixture : IAsyncLifetime
{
    public TestNode Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await TestNode.StartOnSqliteAsync();

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>A single node on its own PostgreSQL database, shared by one test class.</summary>
public sealed class PostgresNodeFixture : IAsyncLifetime
{
    private PostgresDatabase _database = null!;

    public TestNode Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await (await PostgresServer.Shared).CreateDatabaseAsync();
        Node = await TestNode.StartOnPostgresAsync(_database);
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await _database.DisposeAsync();
    }
}

/// <summary>A single node on embedded SQLite with one commercial on duty (<c>LiveChat:CommercialIds</c>), as <c>/livechat</c> needs to start a chat.</summary>
public sealed class OnDutyNodeFixture : IAsyncLifetime
{
    public Guid CommercialId { get; } = Guid.NewGuid();

    public TestNode Node { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["LiveChat:CommercialIds:0"] = CommercialId.ToString() });

    public async Task DisposeAsync() => await Node.DisposeAsync();
}
