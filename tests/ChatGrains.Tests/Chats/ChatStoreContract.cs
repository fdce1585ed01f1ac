using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatGrains.Tests.Chats;

/// <summary>
/// What every storage provider must guarantee to the chat grain, run on SQLite and PostgreSQL:
/// first writer wins, the loser reads the winner's state, one event per created chat.
/// </summary>
public abstract class ChatStoreContract(TestNode node)
{
    private IChatStore Store => node.Services.GetRequiredService<IChatStore>();

    private static (Chat Chat, ChatCreated Event) NewChat(Guid id, string name)
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var visitorId = Guid.NewGuid();
        var chat = new Chat(id, ChatStatus.Pending, ChatPriority.High, visitorId, null, [Guid.NewGuid()], 0, 0, true,
            new Visitor(name, "someone@example.com", City: "Madrid"),
            new ChatMetadata(Department: "ventas", Tags: ["a", "b"]), now, now);
        return (chat, new ChatCreated(id, visitorId, chat.AvailableCommercialIds, chat.Priority, "ventas", now));
    }

    [Fact]
    public async Task InsertingANewChatStoresItAndOneEvent()
    {
        var (chat, created) = NewChat(Guid.NewGuid(), "first");

        var result = await Store.InsertIfAbsentAsync(chat, created, CancellationToken.None);

        Assert.True(result.Created);
        Assert.Same(chat, result.Chat);
        Assert.Equal(1, await node.Database.CountAsync("chats", "id", chat.Id));
        Assert.Equal(1, await node.Database.CountAsync("outbox", "grain_id", chat.Id));
    }

    [Fact]
    public async Task InsertingAnExistingChatReturnsTheStoredOneAndWritesNothing()
    {
        var id = Guid.NewGuid();
        var (first, firstEvent) = NewChat(id, "first");
        var (second, secondEvent) = NewChat(id, "second");
        await Store.InsertIfAbsentAsync(first, firstEvent, CancellationToken.None);

        var result = await Store.InsertIfAbsentAsync(second, secondEvent, CancellationToken.None);

        Assert.False(result.Created);
        Assert.Equal("first", result.Chat.Visitor.Name);
        Assert.Equal(first.CreatedAt, result.Chat.CreatedAt);
        Assert.Equal(first.VisitorId, result.Chat.VisitorId);
        Assert.Equal(first.Metadata.Tags, result.Chat.Metadata.Tags);
        Assert.Equal(1, await node.Database.CountAsync("chats", "id", id));
        Assert.Equal(1, await node.Database.CountAsync("outbox", "grain_id", id));
    }

    [Fact]
    public async Task ConcurrentInsertsOfOneChatHaveExactlyOneWinner()
    {
        var id = Guid.NewGuid();
        var attempts = Enumerable.Range(0, 20).Select(i => NewChat(id, $"writer-{i}")).ToList();

        var results = await Task.WhenAll(attempts.Select(a => Task.Run(() => Store.InsertIfAbsentAsync(a.Chat, a.Event, CancellationToken.None))));

        var winner = Assert.Single(results, r => r.Created);
        Assert.All(results, r => Assert.Equal(winner.Chat.Visitor.Name, r.Chat.Visitor.Name));
        Assert.Equal(1, await node.Database.CountAsync("chats", "id", id));
        Assert.Equal(1, await node.Database.CountAsync("outbox", "grain_id", id));
    }
}

public sealed class ChatStoreOnSqlite(SqliteNodeFixture fixture) : ChatStoreContract(fixture.Node), IClassFixture<SqliteNodeFixture>;

public sealed class ChatStoreOnPostgres(PostgresNodeFixture fixture) : ChatStoreContract(fixture.Node), IClassFixture<PostgresNodeFixture>;
