namespace ChatGrains.Grains;

/// <summary>
/// One client address (the edge's client key: an IPv4 address or an IPv6 /64), keyed by it: the
/// chats visitors created from it that are still PENDING, as a durable count for the whole
/// cluster. Its single activation takes one reservation at a time, so two creations racing at
/// the cap cannot both pass.
/// </summary>
[Alias("chatgrains.IClientAddressGrain")]
public interface IClientAddressGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records <paramref name="chatId"/> as pending unless <paramref name="maxPending"/> chats from
    /// this address still are (each chat is asked: one accepted since frees its slot). A chat
    /// already recorded is admitted again without a write, so a retried creation never counts twice.
    /// </summary>
    [Alias("ReservePendingChat")]
    Task<ChatReservation> ReservePendingChat(Guid chatId, int maxPending);

    /// <summary>Forgets a chat whose creation failed.</summary>
    [Alias("ReleasePendingChat")]
    Task ReleasePendingChat(Guid chatId);
}
