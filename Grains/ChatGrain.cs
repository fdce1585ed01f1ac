using Microsoft.Extensions.Logging;
using Orleans.Placement;

namespace ChatGrains.Grains;

/// <summary>
/// One chat. Created through HTTP on the node that took the request; collected after two idle
/// minutes, after which the next call reads it back from storage.
/// </summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed class ChatGrain(
    [PersistentState(GrainStorage.Chat, GrainStorage.Name)] IPersistentState<CreatedOnce<Chat>> state,
    GrainMetrics metrics,
    TimeProvider clock,
    ILogger<ChatGrain> logger) : Grain, IChatGrain
{
    public async Task<ChatCreation> CreateOrGet(CreateChat command)
    {
        var (chat, created) = await state.GetOrCreateAsync(() => NewChat(command));
        if (created)
        {
            metrics.Created(GrainStorage.Chat);
            await this.PublishAsync(EventStreamIds.For(EventStreams.ChatCreated, chat.Id),
                new ChatCreated(chat.Id, chat.VisitorId, chat.AvailableCommercialIds, chat.Priority, chat.Metadata.Department, chat.CreatedAt),
                logger);
        }
        return new ChatCreation(chat, created);
    }

    private Chat NewChat(CreateChat command)
    {
        // Millisecond precision is what the wire shows; storing more would make a replay's
        // timestamps differ from the first response's.
        var now = DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds());
        return new Chat(
            Id: this.GetPrimaryKey(),
            Status: ChatStatus.Pending,
            Priority: command.Priority,
            VisitorId: command.VisitorId,
            AssignedCommercialId: null,
            AvailableCommercialIds: command.AvailableCommercialIds,
            TotalMessages: 0,
            UnreadMessagesCount: 0,
            IsActive: true,
            Visitor: command.Visitor,
            Metadata: command.Metadata,
            CreatedAt: now,
            UpdatedAt: now);
    }
}
