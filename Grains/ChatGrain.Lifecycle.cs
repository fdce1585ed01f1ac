using Microsoft.Extensions.Logging;

namespace ChatGrains.Grains;

/// <summary>
/// A chat's life after its creation: closing an episode, reopening the chat for the next, and
/// the visitor's rating of the episode that closed. Each transition is decided by the chat's
/// single activation and stored before anyone is told; the same call again answers the same
/// result and tells nobody twice.
/// </summary>
public sealed partial class ChatGrain
{
    public async Task<ChatOutcome> Close(ChatActor by, string? note)
    {
        if (state.State.Value is not { } chat)
        {
            return Refused(ConversationRefusal.NotFound);
        }
        if (ReasonFor(chat, by) is not { } reason)
        {
            return Refused(ConversationRefusal.NotParticipant);
        }
        if (chat.Status == ChatStatus.Closed)
        {
            return new ChatOutcome(chat, Refusal: null);
        }
        return new ChatOutcome(await CloseAsync(chat, by, reason, note), Refusal: null);
    }

    /// <summary>Ends the open chat's episode: stored, then its deadline cleared and everyone concerned told.</summary>
    private async Task<Chat> CloseAsync(Chat chat, ChatActor by, CloseReason reason, string? note)
    {
        var now = Now();
        var closed = chat with
        {
            Status = ChatStatus.Closed,
            IsActive = false,
            ClosedAt = now,
            ClosedBy = by,
            CloseReason = reason,
            CloseNote = note,
            UpdatedAt = now,
        };
        await StoreAsync(record =>
        {
            record.Value = closed;
            record.StatusSince = now;
        }, EventTypes.ChatClosed);
        metrics.Closed(reason);
        CountOpen();

        var withdrawn = chat.Status == ChatStatus.Pending ? WithdrawOffersAsync(closed, new ChatWithdrawn(chat.Id), exceptAssigned: false) : Task.CompletedTask;
        var listed = closed.AssignedCommercialId is { } assigned
            ? ListForCommercialAsync(assigned, chat.Id, (commercial, id) => commercial.ChatClosed(id))
            : Task.CompletedTask;
        await Task.WhenAll(
            DeliverAsync(Participants(closed), new ChatClosed(closed)), withdrawn, ReleaseVisitorSlotAsync(closed), listed,
            MoveDeadlineAsync(chat.Id, ended => ended.ClearAsync(chat.Id)));
        return closed;
    }

    public async Task<ChatOutcome> Reopen(Guid visitorId, TimeSpan window, int? maxOpenPerVisitor)
    {
        if (VisitorsChat(visitorId) is not { } chat)
        {
            return Refused(state.State.Value is null ? ConversationRefusal.NotFound : ConversationRefusal.NotParticipant);
        }
        if (chat.Status != ChatStatus.Closed)
        {
            // Reopened already, and open since: the same answer as the reopen that did it.
            return chat.Episode > 1 ? new ChatOutcome(chat, Refusal: null) : Refused(ConversationRefusal.NotClosed);
        }
        if (Now() - chat.ClosedAt > window)
        {
            return Refused(ConversationRefusal.ReopenWindowPassed);
        }
        if (maxOpenPerVisitor is { } maxOpen && !(await GrainFactory.GetGrain<IVisitorGrain>(visitorId).ReserveChat(chat.Id, maxOpen)).Admitted)
        {
            return Refused(ConversationRefusal.VisitorAtCap);
        }

        // Offers and the deadline first, as at creation: a node dying after the write loses neither.
        var now = Now();
        await Task.WhenAll(offers.RecordAsync(chat.Id, chat.AvailableCommercialIds), deadlines.SetAsync(chat.Id, UnansweredAt(now)));
        var reopened = chat with
        {
            Status = ChatStatus.Pending,
            IsActive = true,
            AssignedCommercialId = null,
            ClosedAt = null,
            ClosedBy = null,
            CloseReason = null,
            CloseNote = null,
            Rating = null,
            Episode = chat.Episode + 1,
            UnreadMessagesCount = 0,
            UpdatedAt = now,
        };
        await StoreAsync(record =>
        {
            record.Value = reopened;
            record.StatusSince = now;
            // The new episode's unread messages are the ones written in it.
            record.ReadUpToSeq = reopened.TotalMessages;
        }, EventTypes.ChatReopened);
        metrics.Reopened();
        CountOpen();

        await Task.WhenAll(DeliverAsync([Visitor(reopened)], new ChatReopened(reopened)), AnnounceOffersAsync(reopened));
        return new ChatOutcome(reopened, Refusal: null);
    }

    public async Task<ChatOutcome> Rate(Guid visitorId, int score, string? comment)
    {
        if (VisitorsChat(visitorId) is not { } chat)
        {
            return Refused(state.State.Value is null ? ConversationRefusal.NotFound : ConversationRefusal.NotParticipant);
        }
        if (chat.Status != ChatStatus.Closed)
        {
            return Refused(ConversationRefusal.NotClosed);
        }
        if (chat.Rating is not null)
        {
            return Refused(ConversationRefusal.AlreadyRated);
        }

        var now = Now();
        var rated = chat with { Rating = new ChatRating(score, comment, chat.Episode, now), UpdatedAt = now };
        await StoreAsync(record => record.Value = rated, EventTypes.ChatRated);
        metrics.Rated(score);

        if (rated.AssignedCommercialId is { } commercial)
        {
            await DeliverAsync([Commercial(commercial)], new ChatRated(rated));
        }
        return new ChatOutcome(rated, Refusal: null);
    }

    /// <summary>The chat, when it exists and <paramref name="visitorId"/> is its visitor.</summary>
    private Chat? VisitorsChat(Guid visitorId) => state.State.Value is { } chat && chat.VisitorId == visitorId ? chat : null;

    /// <summary>
    /// Why <paramref name="by"/> closing the chat closes it, or null when it may not: its visitor,
    /// the commercial assigned to it (who may also close it again once closed), or an admin.
    /// </summary>
    private static CloseReason? ReasonFor(Chat chat, ChatActor by) => by.Role switch
    {
        ChatActorRole.Visitor when by.Id == chat.VisitorId.ToString("D") => CloseReason.Visitor,
        ChatActorRole.Commercial when chat.Status != ChatStatus.Pending && by.Id == chat.AssignedCommercialId?.ToString("D") => CloseReason.Commercial,
        ChatActorRole.Admin => CloseReason.Admin,
        _ => null,
    };

    /// <summary>
    /// Best effort: the visitor's grain also forgets a closed chat by itself when the visitor
    /// reaches its cap, asking the chat.
    /// </summary>
    private async Task ReleaseVisitorSlotAsync(Chat chat)
    {
        try
        {
            await GrainFactory.GetGrain<IVisitorGrain>(chat.VisitorId).ReleaseChat(chat.Id);
        }
        catch (Exception exception)
        {
            LogSlotNotReleased(logger, exception, chat.Id);
        }
    }

    /// <summary>
    /// Best effort: the commercial's list of its chats (<c>GET /v2/commercials/me/chats</c>) is
    /// housekeeping next to the chat, which stays the truth about its status.
    /// </summary>
    private async Task ListForCommercialAsync(Guid commercialId, Guid chatId, Func<ICommercialGrain, Guid, Task> change)
    {
        try
        {
            await change(GrainFactory.GetGrain<ICommercialGrain>(commercialId), chatId);
        }
        catch (Exception exception)
        {
            LogNotListed(logger, exception, chatId);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not update the list of chats of the commercial of chat {ChatId}; the chat stands, the list may miss it")]
    private static partial void LogNotListed(ILogger logger, Exception exception, Guid chatId);

    [LoggerMessage(LogLevel.Warning, "Could not release the visitor's slot of closed chat {ChatId}; the visitor's grain forgets it when the visitor reaches its cap")]
    private static partial void LogSlotNotReleased(ILogger logger, Exception exception, Guid chatId);
}
