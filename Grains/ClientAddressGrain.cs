using Orleans.Placement;

namespace ChatGrains.Grains;

/// <summary>The client address grain's state: the chats visitors created from it that may still be PENDING, with when each was reserved.</summary>
public sealed class ClientAddressChats
{
    public Dictionary<Guid, DateTimeOffset> PendingChats { get; set; } = [];
}

/// <summary>
/// One client address and a durable count of the PENDING chats visitors created from it. The
/// chat grain is the truth about a chat's status, so the count is checked against it only when
/// it reaches the cap: a chat accepted since then frees its slot there, with no call from the
/// chat. Every reservation is written before it is answered; one activation decides at a time.
/// </summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed class ClientAddressGrain(
    [PersistentState(GrainStorage.ClientAddress, GrainStorage.Name)] IPersistentState<ClientAddressChats> state,
    TimeProvider clock) : Grain, IClientAddressGrain
{
    /// <summary>How long a reserved chat that does not exist (yet) counts: its creation may still be under way.</summary>
    private static readonly TimeSpan UnconfirmedChatLifetime = TimeSpan.FromMinutes(1);

    public async Task<ChatReservation> ReservePendingChat(Guid chatId, int maxPending)
    {
        var pending = state.State.PendingChats;
        if (pending.ContainsKey(chatId))
        {
            return new ChatReservation(true, pending.Count);
        }
        var before = new Dictionary<Guid, DateTimeOffset>(pending);
        if (pending.Count >= maxPending)
        {
            await ForgetSettledAsync(pending);
        }
        var admitted = pending.Count < maxPending;
        if (admitted)
        {
            pending[chatId] = clock.GetUtcNow();
        }
        if (admitted || pending.Count != before.Count)
        {
            await state.WriteOrRestoreAsync(() => state.State.PendingChats = before);
        }
        return new ChatReservation(admitted, pending.Count);
    }

    public async Task ReleasePendingChat(Guid chatId)
    {
        var before = new Dictionary<Guid, DateTimeOffset>(state.State.PendingChats);
        if (state.State.PendingChats.Remove(chatId))
        {
            await state.WriteOrRestoreAsync(() => state.State.PendingChats = before);
        }
    }

    /// <summary>Forgets the chats no longer PENDING, and those whose creation never stored them.</summary>
    private async Task ForgetSettledAsync(Dictionary<Guid, DateTimeOffset> pending)
    {
        var reserved = pending.ToArray();
        var chats = await Task.WhenAll(reserved.Select(chat => GrainFactory.GetGrain<IChatGrain>(chat.Key).Current()));
        var now = clock.GetUtcNow();
        for (var i = 0; i < reserved.Length; i++)
        {
            if (chats[i] is { Status: not ChatStatus.Pending } || (chats[i] is null && now - reserved[i].Value >= UnconfirmedChatLifetime))
            {
                pending.Remove(reserved[i].Key);
            }
        }
    }
}
