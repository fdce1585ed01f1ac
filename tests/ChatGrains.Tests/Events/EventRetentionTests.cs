using ChatGrains.Grains;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Events;

/// <summary>Events go once they are older than <c>Events:Retention</c>; younger ones stay.</summary>
public sealed class EventRetentionTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public async Task InitializeAsync() => _node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
    {
        ["Events:Retention"] = "00:00:05",
        ["Events:SweepInterval"] = "00:00:01",
    });

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task TheSweepDeletesEventsPastTheirRetention()
    {
        var chatId = Guid.NewGuid();
        await Conversation.OpenChatAsync(_node, chatId, Guid.NewGuid(), Guid.NewGuid());
        Assert.Equal([EventTypes.ChatCreated], await _node.Database.ChatEventTypesAsync(chatId));

        var deadline = DateTime.UtcNow + EventFeed.Patience;
        while ((await _node.Database.ChatEventTypesAsync(chatId)).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Empty(await _node.Database.ChatEventTypesAsync(chatId));
        // The chat itself is kept: only its events went.
        Assert.Equal(1, await _node.Database.GrainRecordsAsync(GrainStorage.Chat, chatId));
    }
}
