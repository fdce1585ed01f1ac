using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Storage;

namespace ChatGrains.Grains;

/// <summary>A commercial grain's state: the chats offered to it, with when each was recorded, and whether it has ever signed in.</summary>
public sealed class CommercialOffers
{
    public Dictionary<Guid, DateTimeOffset> Offers { get; set; } = [];

    public bool SignedIn { get; set; }
}

/// <summary>
/// One commercial: the chats offered to it, durably, so an offer made while it was offline (or
/// while a node died) is there when it connects, and its connections. An offer is recorded
/// before its chat is stored; the chat grain is the truth, so the pending list asks each chat
/// and forgets the offers that are no longer pending for this commercial. An offer leaves only
/// that way or when its chat is taken: however many others arrive, a genuine offer stays (what
/// bounds them is who may offer: visitors only to known commercials, a capped number each).
/// </summary>
[PreferLocalPlacement]
[CollectionAgeLimit(Minutes = 2)]
public sealed partial class CommercialGrain(
    [PersistentState(GrainStorage.Commercial, GrainStorage.Name)] IPersistentState<CommercialOffers> state,
    TimeProvider clock,
    ILogger<CommercialGrain> logger) : ParticipantGrain(logger), ICommercialGrain
{
    /// <summary>How long an offer whose chat does not exist (yet) is kept: its creation may still be under way.</summary>
    private static readonly TimeSpan UnconfirmedOfferLifetime = TimeSpan.FromMinutes(1);

    // The write batching of SaveAsync: callers waiting for the next write; whether one is under
    // way; whether memory holds changes no finished write has stored.
    private TaskCompletionSource? _nextWrite;
    private bool _writing;
    private bool _unsaved;

    protected override Participant Self => new(ParticipantRole.Commercial, this.GetPrimaryKey());

    public Task RecordOffer(Guid chatId)
    {
        var offers = state.State.Offers;
        // Already recorded and stored (no write under way that might still fail): nothing to do.
        if (!offers.TryAdd(chatId, clock.GetUtcNow()) && !_unsaved && !_writing)
        {
            return Task.CompletedTask;
        }
        return SaveAsync();
    }

    public Task SignIn()
    {
        // Stored already (no write under way that might still fail): nothing to do.
        if (state.State.SignedIn && !_unsaved && !_writing)
        {
            return Task.CompletedTask;
        }
        state.State.SignedIn = true;
        return SaveAsync();
    }

    // A sign-in whose write failed still counts here: its token was genuine, and the next write stores it.
    public Task<bool> HasSignedIn() => Task.FromResult(state.State.SignedIn);

    public async Task Withdraw(Guid chatId, Guid acceptedBy)
    {
        if (state.State.Offers.Remove(chatId))
        {
            await SaveAsync();
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
        var pending = new List<Chat>();
        var stale = 0;
        for (var i = 0; i < offers.Length; i++)
        {
            if (chats[i] is { Status: ChatStatus.Pending } chat && chat.AvailableCommercialIds.Contains(me))
            {
                pending.Add(chat);
            }
            else if (chats[i] is not null || now - offers[i].Value >= UnconfirmedOfferLifetime)
            {
                // Removed by key: offers recorded while the chats were asked stay.
                state.State.Offers.Remove(offers[i].Key);
                stale++;
            }
        }
        if (stale > 0)
        {
            await TryForgetAsync();
        }
        return [.. pending.OrderBy(chat => chat.CreatedAt).ThenBy(chat => chat.Id)];
    }

    /// <summary>Forgetting stale offers is housekeeping: a failure leaves them for the next time.</summary>
    private async Task TryForgetAsync()
    {
        try
        {
            await SaveAsync();
        }
        catch (Exception exception)
        {
            LogForgetFailed(logger, exception);
        }
    }

    /// <summary>
    /// Stores the offers as they are now. Writes are batched: while one is under way, every change
    /// made meanwhile waits for the next, which stores them all — so a commercial offered many
    /// chats at once (every visitor's chat names the few on duty) costs a write per batch, not
    /// per offer. A failed write fails its whole batch; its changes stay in memory and are stored
    /// by the next write (an unstored offer is harmless: its chat fails too, and a chat that does
    /// not exist is forgotten as an offer).
    /// </summary>
    private Task SaveAsync()
    {
        _unsaved = true;
        _nextWrite ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stored = _nextWrite.Task;
        if (!_writing)
        {
            _ = WriteBatchesAsync();
        }
        return stored;
    }

    private async Task WriteBatchesAsync()
    {
        _writing = true;
        try
        {
            while (_nextWrite is { } batch)
            {
                _nextWrite = null;
                _unsaved = false;
                try
                {
                    await state.WriteStateAsync();
                    batch.SetResult();
                }
                catch (Exception exception)
                {
                    _unsaved = true;
                    batch.SetException(await FailureOfAsync(exception));
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }

    private async Task<Exception> FailureOfAsync(Exception exception)
    {
        if (exception is InconsistentStateException)
        {
            // Another activation (possible while the membership changes) wrote since this one
            // read: take its state; the callers retry against it.
            try
            {
                await state.ReadStateAsync();
            }
            catch (Exception reload)
            {
                LogForgetFailed(logger, reload);
            }
            return exception;
        }
        return StorageFailures.AreTransient(exception) ? new StorageUnavailableException() : exception;
    }

    [LoggerMessage(LogLevel.Warning, "Could not forget a commercial's stale offers; they are checked again next time")]
    private static partial void LogForgetFailed(ILogger logger, Exception exception);
}
