using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Lifecycle;

/// <summary>A node on SQLite whose visitors may have two open chats.</summary>
public sealed class LifecycleNodeFixture : IAsyncLifetime
{
    public const int MaxOpenPerVisitor = 2;

    public TestNode Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await TestNode.StartOnSqliteAsync(
        new Dictionary<string, string?> { ["Chats:MaxOpenPerVisitor"] = MaxOpenPerVisitor.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    public async Task DisposeAsync() => await Node.DisposeAsync();
}
