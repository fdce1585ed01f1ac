using Microsoft.Extensions.Logging;

namespace ChatGrains.Grains;

/// <summary>
/// A chat's offers to its commercials. Each is recorded in the offer book before the chat is
/// stored, so a silo dying right after the write loses none (an offer whose chat was never
/// stored is forgotten when the commercial checks it); the commercials' connections are told
/// before the creation answers, unless a commercial's grain is slow to take it (its silo just
/// died): the creation waits <see cref="OfferAnnouncementWait"/> at most, and that commercial
/// finds the offer in the book when it connects again.
/// </summary>
public sealed partial class ChatGrain
{
    /// <summary>How long a creation waits for its commercials' grains to take the offer; a healthy one answers in milliseconds.</summary>
    private static readonly TimeSpan OfferAnnouncementWait = TimeSpan.FromSeconds(1);

    // A chat stored before offers were rows may name commercials whose record never got its offer.
    private async Task RecordLeftoverOffersAsync()
    {
        if (state.State is { Value: { Status: ChatStatus.Pending } chat, UnrecordedOffers: { Length: > 0 } unrecorded })
        {
            try
            {
                await offers.RecordAsync(chat.Id, unrecorded);
                state.State.UnrecordedOffers = [];
            }
            catch (Exception exception)
            {
                LogOffersNotRecorded(logger, exception, chat.Id);
            }
        }
    }

    // Delivered from the thread pool, so a delivery that outlasts the wait does not outlive the
    // activation in it (a new chat's activation is deactivated as soon as the creation returns);
    // the grain references are made here, on the activation, as Orleans requires.
    private async Task AnnounceOffersAsync(Chat chat)
    {
        var commercials = chat.AvailableCommercialIds.Select(Commercial).ToArray();
        try
        {
            await Task.Run(() => DeliverAsync(commercials, new ChatOffered(chat))).WaitAsync(OfferAnnouncementWait);
        }
        catch (TimeoutException)
        {
            LogOffersAnnouncedLate(logger, chat.Id);
        }
    }

    /// <summary>
    /// Withdraws the chat's offers and tells each commercial <paramref name="news"/>: that it
    /// was taken (all but the winner), or withdrawn (all, when a PENDING chat closed).
    /// </summary>
    private async Task WithdrawOffersAsync(Chat chat, ConversationEvent news, bool exceptAssigned)
    {
        try
        {
            await offers.WithdrawAsync(chat.Id, chat.AvailableCommercialIds);
        }
        catch (Exception exception)
        {
            // The offers stay in the book; a commercial's pending list drops them, the chat being no longer PENDING.
            LogOffersNotWithdrawn(logger, exception, chat.Id);
        }
        var told = exceptAssigned ? chat.AvailableCommercialIds.Where(id => id != chat.AssignedCommercialId) : chat.AvailableCommercialIds;
        await DeliverAsync(told.Select(Commercial), news);
    }

    [LoggerMessage(LogLevel.Warning, "Could not record the offers of chat {ChatId} left from an earlier version; they are recorded at its next activation")]
    private static partial void LogOffersNotRecorded(ILogger logger, Exception exception, Guid chatId);

    [LoggerMessage(LogLevel.Warning, "A commercial's grain did not take the offer of chat {ChatId} in time; the chat is created, the commercial finds the offer when it connects")]
    private static partial void LogOffersAnnouncedLate(ILogger logger, Guid chatId);

    [LoggerMessage(LogLevel.Warning, "Could not withdraw the offers of chat {ChatId}; the commercials' pending lists drop them")]
    private static partial void LogOffersNotWithdrawn(ILogger logger, Exception exception, Guid chatId);
}
