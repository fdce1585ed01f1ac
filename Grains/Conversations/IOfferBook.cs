namespace ChatGrains.Grains;

/// <summary>A chat offered to a commercial, and when the offer was recorded.</summary>
public readonly record struct Offer(Guid ChatId, DateTimeOffset OfferedAt);

/// <summary>
/// The chats offered to each commercial, one row per offer, so recording or withdrawing an offer
/// costs the same however many a commercial has pending (a commercial's own record would be
/// rewritten whole on every offer). The chat grain is the truth about whether an offer still
/// stands; this is where a commercial connecting later finds them.
/// </summary>
public interface IOfferBook
{
    /// <summary>Records, durably, that the chat is offered to each commercial (again: no change).</summary>
    Task RecordAsync(Guid chatId, IReadOnlyCollection<Guid> commercialIds);

    /// <summary>Forgets the chat's offers to these commercials.</summary>
    Task WithdrawAsync(Guid chatId, IReadOnlyCollection<Guid> commercialIds);

    /// <summary>Forgets these offers to one commercial.</summary>
    Task ForgetAsync(Guid commercialId, IReadOnlyCollection<Guid> chatIds);

    /// <summary>The offers recorded for the commercial, in no particular order.</summary>
    Task<IReadOnlyList<Offer>> OffersToAsync(Guid commercialId);
}
