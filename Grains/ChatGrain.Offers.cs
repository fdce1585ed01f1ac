using Microsoft.Extensions.Logging;

namespace ChatGrains.Grains;

/// <summary>
/// Recording a chat's offers in its commercials' grains, so a commercial connecting later finds
/// them. Each is recorded before the chat is stored, so a silo dying right after the write loses
/// none (an offer whose chat was never stored is forgotten when the commercial checks it). A
/// commercial's grain on a silo that just died cannot answer until the membership declares the
/// silo dead; rather than making every creation that names the commercial wait (or fail) that
/// long, the chat is stored with the offers still to record and records them as soon as those
/// grains answer.
/// </summary>
public sealed partial class ChatGrain
{
    /// <summary>How long a creation waits for a commercial's grain; a healthy one answers in milliseconds.</summary>
    private static readonly TimeSpan OfferRecordingWait = TimeSpan.FromSeconds(1);

    /// <summary>How often unrecorded offers are tried again (a dead silo is declared dead in ~3–6 s).</summary>
    private static readonly TimeSpan OfferRetryPeriod = TimeSpan.FromSeconds(2);

    private IGrainTimer? _offerRetry;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // This chat's last activation died (or was collected) before recording them all.
        if (state.State is { Value.Status: ChatStatus.Pending, UnrecordedOffers.Length: > 0 })
        {
            KeepRecordingOffers();
        }
        return Task.CompletedTask;
    }

    /// <summary>Records the chat's offer with each commercial; answers the commercials whose grain did not record it in time.</summary>
    private async Task<Guid[]> RecordOffersAsync(IEnumerable<Guid> commercialIds)
    {
        var chatId = this.GetPrimaryKey();
        var attempts = commercialIds.Select(async commercialId =>
        {
            try
            {
                await GrainFactory.GetGrain<ICommercialGrain>(commercialId).RecordOffer(chatId).WaitAsync(OfferRecordingWait);
                return (commercialId, Recorded: true);
            }
            catch (Exception exception)
            {
                LogOfferNotRecorded(logger, exception.GetType().Name, chatId);
                return (commercialId, Recorded: false);
            }
        });
        return [.. (await Task.WhenAll(attempts)).Where(a => !a.Recorded).Select(a => a.commercialId)];
    }

    // Not KeepAlive: retried for as long as the activation lives (two idle minutes are many
    // times the seconds a death takes to declare), and again when the chat is next activated,
    // so a commercial grain that keeps failing cannot pin chats in memory.
    private void KeepRecordingOffers() =>
        _offerRetry ??= this.RegisterGrainTimer(RecordUnrecordedOffersAsync, new GrainTimerCreationOptions(OfferRetryPeriod, OfferRetryPeriod));

    private async Task RecordUnrecordedOffersAsync(CancellationToken cancellationToken)
    {
        // Once the chat is taken (or closed) its offers are not pending any more: nothing to record.
        if (state.State is not { Value: { Status: ChatStatus.Pending } chat, UnrecordedOffers: { Length: > 0 } unrecorded })
        {
            StopRecordingOffers();
            return;
        }
        var stillUnrecorded = await RecordOffersAsync(unrecorded);
        if (stillUnrecorded.Length == unrecorded.Length)
        {
            return;
        }
        var before = state.State.Snapshot();
        state.State.UnrecordedOffers = stillUnrecorded;
        try
        {
            await StoreAsync(before);
        }
        catch (Exception exception)
        {
            // Recording again is harmless: the next tick tries them all again.
            LogOfferProgressNotStored(logger, exception, chat.Id);
            return;
        }
        await DeliverAsync(unrecorded.Except(stillUnrecorded).Select(Commercial), new ChatOffered(chat));
        if (stillUnrecorded.Length == 0)
        {
            StopRecordingOffers();
        }
    }

    private void StopRecordingOffers()
    {
        _offerRetry?.Dispose();
        _offerRetry = null;
    }

    [LoggerMessage(LogLevel.Warning, "A commercial's grain did not record the offer of chat {ChatId} in time ({Failure}); it is recorded when the grain answers again")]
    private static partial void LogOfferNotRecorded(ILogger logger, string failure, Guid chatId);

    [LoggerMessage(LogLevel.Warning, "Could not store which offers of chat {ChatId} are recorded; they are recorded again")]
    private static partial void LogOfferProgressNotStored(ILogger logger, Exception exception, Guid chatId);
}
