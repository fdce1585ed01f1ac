using Microsoft.Extensions.Logging;

namespace ChatGrains.Grains;

/// <summary>
/// A chat's offers to its commercials. Each is recorded in the offer book before the chat is
/// stored, so a silo dying right after the write loses none (an offer whose chat was never
/// stored is forgotten when the commercial checks it); the commercials' connections are told
/// after, without holding the creation's answer (a commercial whose node just died would hold it
/// for seconds: it finds the offer in the book when it connects again).
/// </summary>
public sealed partial class ChatGrain
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A chat stored before offers were rows may name commercials whose record never got its offer.
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

    // On the thread pool, not the activation, which is deactivated as soon as the creation returns.
    private void AnnounceOffers(Chat chat) =>
        _ = Task.Run(() => DeliverAsync(chat.AvailableCommercialIds.Select(Commercial), new ChatOffered(chat)));

    /// <summary>Withdraws the chat's offers; every commercial but the winner is told it was taken.</summary>
    private async Task WithdrawOffersAsync(Chat chat)
    {
        try
        {
            await offers.WithdrawAsync(chat.Id, chat.AvailableCommercialIds);
        }
        catch (Exception exception)
        {
            // The offers stay in the book; a commercial's pending list drops them, the chat being ACTIVE.
            LogOffersNotWithdrawn(logger, exception, chat.Id);
        }
        await DeliverAsync(chat.AvailableCommercialIds.Where(id => id != chat.AssignedCommercialId).Select(Commercial), new ChatTaken(chat.Id));
    }

    [LoggerMessage(LogLevel.Warning, "Could not record the offers of chat {ChatId} left from an earlier version; they are recorded at its next activation")]
    private static partial void LogOffersNotRecorded(ILogger logger, Exception exception, Guid chatId);

    [LoggerMessage(LogLevel.Warning, "Could not withdraw the offers of accepted chat {ChatId}; the commercials' pending lists drop them")]
    private static partial void LogOffersNotWithdrawn(ILogger logger, Exception exception, Guid chatId);
}
