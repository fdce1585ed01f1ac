using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Storage;

namespace ChatGrains.Grains;

/// <summary>A commercial grain's state: whether it has ever signed in, and the chats assigned to it.</summary>
public sealed class CommercialOffers
{
    /// <summary>The most closed chats a commercial's list keeps.</summary>
    public const int MaxRecentlyClosed = 100;

    /// <summary>
    /// Read only from records stored before offers were rows (<see cref="IOfferBook"/>): the
    /// grain moves them into the book when activated.
    /// </summary>
    public Dictionary<Guid, DateTimeOffset> Offers { get; set; } = [];

    public bool SignedIn { get; set; }

    /// <summary>The chats assigned to it and not closed since, oldest first.</summary>
    public Guid[] Assigned { get; set; } = [];

    /// <summary>Its last <see cref="MaxRecentlyClosed"/> chats closed while assigned to it, oldest first.</summary>
    public Guid[] RecentlyClosed { get; set; } = [];
}

/// <summary>
/// One commercial: the chats offered to it and its connections. Offers are rows of the offer
/// book, recorded by each chat before it is stored; the chat grain is the truth, so the pending
/// list asks each chat and forgets the offers that are no longer pending for this commercial.
/// An offer leaves only that way or when its chat is taken: however many others arrive, a
/// genuine offer stays (what bounds them is who may offer: visitors only to known commercials,
/// a capped number each).
/// </summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed partial class CommercialGrain(
    [PersistentState(GrainStorage.Commercial, GrainStorage.Name)] IPersistentState<CommercialOffers> state,
    IOfferBook offers,
    TimeProvider clock,
    ILogger<CommercialGrain> logger) : ParticipantGrain(logger), ICommercialGrain
{
    /// <summary>How long an offer whose chat does not exist (yet) is kept: its creation may still be under way.</summary>
    private static readonly TimeSpan UnconfirmedOfferLifetime = TimeSpan.FromMinutes(1);

    private bool _signInUnsaved;

    protected override Participant Self => new(ParticipantRole.Commercial, this.GetPrimaryKey());

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Offers.Count == 0)
        {
            return;
        }
        var me = this.GetPrimaryKey();
        try
        {
            foreach (var offer in state.State.Offers.Keys)
            {
                await offers.RecordAsync(offer, [me]);
            }
            state.State.Offers = [];
            await state.WriteStateAsync(cancellationToken);
        }
        catch (Exception exception)
        {
            // Moved again at the next activation (recording twice changes nothing).
            LogLegacyOffersNotMoved(logger, exception);
        }
    }

    public async Task SignIn()
    {
        if (state.State.SignedIn && !_signInUnsaved)
        {
            return;
        }
        state.State.SignedIn = true;
        _signInUnsaved = true;
        try
        {
            await state.WriteStateAsync();
            _signInUnsaved = false;
        }
        catch (InconsistentStateException)
        {
            // Another activation (possible while the membership changes) wrote since this one
            // read: take its state; the callers retry against it.
            await TryReloadAsync();
            throw;
        }
    }

    // A sign-in whose write failed still counts here: its token was genuine, and the next sign-in stores it.
    public Task<bool> HasSignedIn() => Task.FromResult(state.State.SignedIn);

    public async Task<Chat[]> PendingOffers()
    {
        var me = this.GetPrimaryKey();
        var offered = await offers.OffersToAsync(me);
        var chats = await Task.WhenAll(offered.Select(offer => GrainFactory.GetGrain<IChatGrain>(offer.ChatId).Current()));
        var now = clock.GetUtcNow();
        var pending = new List<Chat>();
        var stale = new List<Guid>();
        for (var i = 0; i < offered.Count; i++)
        {
            if (chats[i] is { Status: ChatStatus.Pending } chat && chat.AvailableCommercialIds.Contains(me))
            {
                pending.Add(chat);
            }
            else if (chats[i] is not null || now - offered[i].OfferedAt >= UnconfirmedOfferLifetime)
            {
                stale.Add(offered[i].ChatId);
            }
        }
        if (stale.Count > 0)
        {
            await TryForgetAsync(stale);
        }
        return [.. pending.OrderBy(chat => chat.CreatedAt).ThenBy(chat => chat.Id)];
    }

    public Task ChatAssigned(Guid chatId) =>
        state.State.Assigned.Contains(chatId) ? Task.CompletedTask : WriteListsAsync([.. state.State.Assigned, chatId], state.State.RecentlyClosed);

    public Task ChatClosed(Guid chatId) => WriteListsAsync(
        [.. state.State.Assigned.Where(id => id != chatId)],
        [.. state.State.RecentlyClosed.Where(id => id != chatId).Append(chatId).TakeLast(CommercialOffers.MaxRecentlyClosed)]);

    public async Task<Chat[]> Chats(ChatStatus? status)
    {
        var me = this.GetPrimaryKey();
        var lists = new List<Task<Chat[]>>(3);
        if (status is null or ChatStatus.Pending)
        {
            lists.Add(PendingOffers());
        }
        if (status is null or ChatStatus.Active)
        {
            lists.Add(CurrentAsync(state.State.Assigned, chat => chat is { Status: ChatStatus.Active } && chat.AssignedCommercialId == me));
        }
        if (status is null or ChatStatus.Closed)
        {
            lists.Add(CurrentAsync(state.State.RecentlyClosed, chat => chat is { Status: ChatStatus.Closed } && chat.AssignedCommercialId == me));
        }
        var chats = await Task.WhenAll(lists);
        return [.. chats.SelectMany(list => list).OrderByDescending(chat => chat.UpdatedAt).ThenBy(chat => chat.Id)];
    }

    /// <summary>The listed chats as they are now, those that still belong in the list (the chats are the truth).</summary>
    private async Task<Chat[]> CurrentAsync(Guid[] chatIds, Func<Chat?, bool> belongs)
    {
        var chats = await Task.WhenAll(chatIds.Select(id => GrainFactory.GetGrain<IChatGrain>(id).Current()));
        return [.. chats.Where(belongs).Select(chat => chat!)];
    }

    private async Task WriteListsAsync(Guid[] assigned, Guid[] recentlyClosed)
    {
        var (assignedBefore, closedBefore) = (state.State.Assigned, state.State.RecentlyClosed);
        state.State.Assigned = assigned;
        state.State.RecentlyClosed = recentlyClosed;
        await state.WriteOrRestoreAsync(() => (state.State.Assigned, state.State.RecentlyClosed) = (assignedBefore, closedBefore));
    }

    /// <summary>Forgetting stale offers is housekeeping: a failure leaves them for the next time.</summary>
    private async Task TryForgetAsync(List<Guid> stale)
    {
        try
        {
            await offers.ForgetAsync(this.GetPrimaryKey(), stale);
        }
        catch (Exception exception)
        {
            LogForgetFailed(logger, exception);
        }
    }

    private async Task TryReloadAsync()
    {
        try
        {
            await state.ReadStateAsync();
        }
        catch (Exception exception)
        {
            LogReloadFailed(logger, exception);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not move a commercial's offers from its record into the offer book; moved at its next activation")]
    private static partial void LogLegacyOffersNotMoved(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Could not forget a commercial's stale offers; they are checked again next time")]
    private static partial void LogForgetFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Could not reload a commercial's record after another activation wrote it; its next call reads it again")]
    private static partial void LogReloadFailed(ILogger logger, Exception exception);
}
