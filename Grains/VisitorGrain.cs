using Microsoft.Extensions.Logging;
using Orleans.Placement;

namespace ChatGrains.Grains;

/// <summary>The visitor grain's state: the ids of the chats it opened that are still open (not CLOSED).</summary>
public sealed class VisitorChats
{
    public Guid[] OpenChatIds { get; set; } = [];
}

/// <summary>
/// One visitor: its connections (see <see cref="ParticipantGrain"/>) and a durable count of its
/// open chats. Every reservation is written before it is answered, so the count survives
/// deactivation and silo death; one activation decides at a time, so the cap holds under
/// concurrent creations from any node. A chat leaves the count when it closes (the chat releases
/// it), or, should that release have failed, when the visitor is at its cap and the chat says it
/// is closed.
/// </summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed class VisitorGrain(
    [PersistentState(GrainStorage.Visitor, GrainStorage.Name)] IPersistentState<VisitorChats> state,
    ILogger<VisitorGrain> logger) : ParticipantGrain(logger), IVisitorGrain
{
    protected override Participant Self => new(ParticipantRole.Visitor, this.GetPrimaryKey());

    public async Task<ChatReservation> ReserveChat(Guid chatId, int maxOpen)
    {
        var open = state.State.OpenChatIds;
        if (open.Contains(chatId))
        {
            return new ChatReservation(true, open.Length);
        }
        if (open.Length >= maxOpen)
        {
            // The chats are the truth: one closed since (its release may have failed) frees its slot.
            var chats = await Task.WhenAll(open.Select(id => GrainFactory.GetGrain<IChatGrain>(id).Current()));
            open = [.. open.Where((_, i) => chats[i] is not { Status: ChatStatus.Closed })];
        }
        if (open.Length >= maxOpen)
        {
            if (open.Length != state.State.OpenChatIds.Length)
            {
                await WriteAsync(open);
            }
            return new ChatReservation(false, open.Length);
        }
        await WriteAsync([.. open, chatId]);
        return new ChatReservation(true, open.Length + 1);
    }

    public async Task ReleaseChat(Guid chatId)
    {
        var open = state.State.OpenChatIds;
        if (open.Contains(chatId))
        {
            await WriteAsync([.. open.Where(id => id != chatId)]);
        }
    }

    private Task WriteAsync(Guid[] openChatIds)
    {
        var before = state.State.OpenChatIds;
        state.State.OpenChatIds = openChatIds;
        return state.WriteOrRestoreAsync(() => state.State.OpenChatIds = before);
    }
}
