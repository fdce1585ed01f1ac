namespace ChatGrains.Grains;

/// <summary>Chat state as the storage provider keeps it (SQL per provider lives in Silo).</summary>
public interface IChatStore
{
    /// <summary>
    /// Inserts the chat and its event in one transaction unless a chat with that id exists.
    /// Returns the stored chat: the given one when it was inserted, the first writer's otherwise.
    /// </summary>
    Task<ChatCreation> InsertIfAbsentAsync(Chat chat, ChatCreated created, CancellationToken cancellationToken);
}

public sealed class ChatGrain(Guid id, IChatStore store, GrainCreations creations, TimeProvider clock) : IChatGrain
{
    public Guid Id => id;

    public async Task<ChatCreation> CreateOrGetAsync(CreateChat command, CancellationToken cancellationToken)
    {
        // Millisecond precision is what the wire shows; storing more would make a replay's
        // timestamps differ from the first response's.
        var now = DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds());
        var chat = new Chat(
            Id: id,
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
        var created = new ChatCreated(id, command.VisitorId, command.AvailableCommercialIds, command.Priority, command.Metadata.Department, now);
        var creation = await store.InsertIfAbsentAsync(chat, created, cancellationToken);
        if (creation.Created)
        {
            creations.Chat();
        }
        return creation;
    }
}
