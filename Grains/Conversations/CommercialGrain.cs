using Microsoft.Extensions.Logging;
using Orleans.Placement;

namespace ChatGrains.Grains;

/// <summary>A commercial grain's state: the chats offered to it, with when each was recorded.</summary>
public sealed class CommercialOffers
{
    public Dictionary<Guid, DateTimeOffset> Offers { get; set; } = [];
}

/// <summary>
/// One commercial: the chats offered to it, durably, so an offer made while it was offline (or
/// while a node died) is there when it connects, and its connections. An offer is recorded
/// before its chat is stored; the chat grain is the truth, so the pending list asks each chat
/// and forgets the offers that are no longer pending for this commercial.
/// </summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed partial class CommercialGrain(
    [PersistentState(GrainStorage.Commercial, GrainStorage.Name)] IPersistentState<CommercialOffers> state,
    TimeProvider clock,
    ILogger<CommercialGrain> logger) : ParticipantGrain(logger), ICommercialGrain
{
    /// <summary>The most offers kept; past it the oldest is forgotten (a flood of chats cannot grow the record without end).</summary>
    public const int MaxOffers = 500;

    /// <summary>How long an offer whose chat does not exist (yet) is kept: its creation may still be under way.</summary>
    private static readonly TimeSpan UnconfirmedOfferLifetime = TimeSpan.FromMinutes(1);

    protected override Participant Self => new(ParticipantRole.Commercial, this.GetPrimaryKey());

    public async Task RecordOffer(Guid chatId)
    {
        var offers = state.State.Offers;
        if (offers.ContainsKey(chatId))
        {
            return;
        }
        var next = new Dictionary<Guid, DateTimeOffset>(offers) { [chatId] = clock.GetUtcNow() };
        if (next.Count > MaxOffers)
        {
            next.Remove(next.MinBy(offer => offer.Value).Key);
        }
        await WriteAsync(next);
    }

    public async Task Withdraw(Guid chatId, Guid acceptedBy)
    {
        if (state.State.Offers.ContainsKey(chatId))
        {
            await WriteAsync(new Dictionary<Guid, DateTimeOffset>(state.State.Offers.Where(offer => offer.Key != chatId)));
        }
        if (acceptedBy != this.GetPrimaryKey())
        {
            await Deliver(new ChatTaken(chatId));
        }
    }

    public async Task<Chat[]> PendingOffers()
    {
        var me = this.GetPrimaryKey();
        var offers = state.State.Offers.ToArray();
        var chats = await Task.WhenAll(offers.Select(offer => GrainFactory.GetGrain<IChatGrain>(offer.Key).Current()));
        var now = clock.GetUtcNow();
        var keep = new Dictionary<Guid, DateTimeOffset>();
        var pending = new List<Chat>();
        for (var i = 0; i < offers.Length; i++)
        {
            var chat = chats[i];
            if (chat is { Status: ChatStatus.Pending } && chat.AvailableCommercialIds.Contains(me))
            {
                pending.Add(chat);
                keep[offers[i].Key] = offers[i].Value;
            }
            else if (chat is null && now - offers[i].Value < UnconfirmedOfferLifetime)
            {
                keep[offers[i].Key] = offers[i].Value;
            }
        }
        if (keep.Count != offers.Length)
        {
            await TryForgetAsync(keep);
        }
        return [.. pending.OrderBy(chat => chat.CreatedAt).ThenBy(chat => chat.Id)];
    }

    /// <summary>Forgetting stale offers is housekeeping: a failure leaves them for the next time.</summary>
    private async Task TryForgetAsync(Dictionary<Guid, DateTimeOffset> keep)
    {
        try
        {
            await WriteAsync(keep);
        }
        catch (Exception exception)
        {
            LogForgetFailed(logger, exception);
        }
    }

    private Task WriteAsync(Dictionary<Guid, DateTimeOffset> offers)
    {
        var before = state.State.Offers;
        state.State.Offers = offers;
        return state.WriteOrRestoreAsync(() => state.State.Offers = before);
    }

    [LoggerMessage(LogLevel.Warning, "Could not forget a commercial's stale offers; they are checked again next time")]
    private static partial void LogForgetFailed(ILogger logger, Exception exception);
}
