using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace ChatGrains.Grains;

/// <summary>
/// The conversation of a chat: accepting it, its messages and what the commercial has read.
/// Every change is stored before anyone is told, and the single activation orders the messages:
/// each gets the next sequence number, is stored as a row of the message log (the chat's record
/// is not rewritten for it) and is delivered to both participants before the next.
/// </summary>
public sealed partial class ChatGrain
{
    public Task<Chat?> Current() => Task.FromResult(state.State.Value);

    public async Task<ChatOutcome> Accept(Guid commercialId)
    {
        if (state.State.Value is not { } chat)
        {
            return Refused(ConversationRefusal.NotFound);
        }
        if (!chat.AvailableCommercialIds.Contains(commercialId))
        {
            return Refused(ConversationRefusal.NotOffered);
        }
        switch (chat.Status)
        {
            case ChatStatus.Active when chat.AssignedCommercialId == commercialId:
                return new ChatOutcome(chat, Refusal: null);
            case ChatStatus.Active:
                return Refused(ConversationRefusal.AlreadyTaken);
            case ChatStatus.Closed:
                return Refused(ConversationRefusal.Closed);
        }

        // The deadline row is never later than the chat's: an earlier one is set before the record,
        // a later one after it (and if that fails, the grain asked at the earlier one sets it).
        var now = Now();
        var warnAt = InactivityWarningAt(now);
        var earlier = warnAt <= UnansweredAt(StatusSince(chat));
        if (earlier)
        {
            await deadlines.SetAsync(chat.Id, warnAt);
        }
        var accepted = chat with { Status = ChatStatus.Active, AssignedCommercialId = commercialId, UpdatedAt = now };
        await StoreAsync(record =>
        {
            record.Value = accepted;
            record.StatusSince = now;
            if (!record.AssignedCommercialIds.Contains(commercialId))
            {
                record.AssignedCommercialIds = [.. record.AssignedCommercialIds, commercialId];
            }
        }, EventTypes.ChatAccepted);

        await Task.WhenAll(
            earlier ? Task.CompletedTask : MoveDeadlineAsync(chat.Id, later => later.SetAsync(chat.Id, warnAt)),
            DeliverAsync([Visitor(accepted)], new ChatAccepted(accepted)),
            WithdrawOffersAsync(accepted, new ChatTaken(accepted.Id), exceptAssigned: true),
            ListForCommercialAsync(commercialId, chat.Id, (commercial, id) => commercial.ChatAssigned(id)));
        return new ChatOutcome(accepted, Refusal: null);
    }

    public async Task<MessageOutcome> Send(SendMessage command)
    {
        if (state.State.Value is not { } chat)
        {
            return new MessageOutcome(null, Duplicate: false, ConversationRefusal.NotFound);
        }
        if (chat.Status == ChatStatus.Closed)
        {
            return new MessageOutcome(null, Duplicate: false, ConversationRefusal.Closed);
        }
        if (!IsParticipant(chat, command.Sender))
        {
            return new MessageOutcome(null, Duplicate: false, ConversationRefusal.NotParticipant);
        }
        // Only the visitor writes while PENDING, so every message stored so far is the visitor's.
        if (chat.Status == ChatStatus.Pending && chat.TotalMessages >= command.MaxWhilePending)
        {
            // At the cap, only a resend is answered.
            return await messages.FindAsync(chat.Id, command.ClientMessageId) is { } sent
                ? Resent(sent, command.Sender)
                : new MessageOutcome(null, Duplicate: false, ConversationRefusal.AwaitingAgent);
        }

        var now = Now();
        var message = new ConversationMessage(chat.TotalMessages + 1, command.ClientMessageId, command.Sender.Role, command.Sender.Id, command.Text, now);
        if (await AppendAsync(message, _lastEventSeq + 1) is { } stored)
        {
            return Resent(stored, command.Sender);
        }
        _lastEventSeq++;
        metrics.EventStored(EventTypes.MessageCreated);
        var updated = chat with
        {
            TotalMessages = chat.TotalMessages + 1,
            UnreadMessagesCount = chat.UnreadMessagesCount + (message.SenderRole == ParticipantRole.Visitor ? 1 : 0),
            UpdatedAt = now,
        };
        state.State.Value = updated;
        _lastMessageAt = now;

        await DeliverAsync(Participants(updated), new MessageReceived(chat.Id, message));
        return new MessageOutcome(message, Duplicate: false, Refusal: null);
    }

    public async Task<ChatOutcome> MarkRead(Guid commercialId, long upToSeq)
    {
        if (state.State.Value is not { } chat)
        {
            return Refused(ConversationRefusal.NotFound);
        }
        if (chat.Status == ChatStatus.Closed && chat.AssignedCommercialId == commercialId)
        {
            return Refused(ConversationRefusal.Closed);
        }
        if (!IsParticipant(chat, new Participant(ParticipantRole.Commercial, commercialId)))
        {
            return Refused(ConversationRefusal.NotParticipant);
        }
        var upTo = Math.Clamp(upToSeq, 0, chat.TotalMessages);
        if (upTo <= state.State.ReadUpToSeq)
        {
            return new ChatOutcome(chat, Refusal: null);
        }

        var unread = (await messages.TallyAsync(chat.Id, upTo)).UnreadByCommercial;
        var updated = chat with { UnreadMessagesCount = unread, UpdatedAt = Now() };
        await StoreAsync(record =>
        {
            record.Value = updated;
            record.ReadUpToSeq = upTo;
        });
        return new ChatOutcome(updated, Refusal: null);
    }

    public Task<ChatHistory> History(ChatReader reader, long afterSeq, int max) =>
        PageAsync(reader.MayRead, afterSeq, Math.Clamp(max, 0, ChatHistory.MaxMessages));

    public Task<ChatHistory> Transcript(ChatReader reader, long afterSeq, int max) =>
        PageAsync(chat => MayReadTranscript(reader, chat), afterSeq, Math.Clamp(max, 0, ChatHistory.MaxTranscriptMessages));

    /// <summary>Its visitor, every commercial it was ever assigned to, and admins.</summary>
    private bool MayReadTranscript(ChatReader reader, Chat chat) => reader.Participant switch
    {
        { Role: ParticipantRole.Visitor } visitor => chat.VisitorId == visitor.Id,
        { Role: ParticipantRole.Commercial } commercial => state.State.WasAssignedTo(commercial.Id),
        _ => reader.IsAdmin,
    };

    private async Task<ChatHistory> PageAsync(Func<Chat, bool> mayRead, long afterSeq, int count)
    {
        if (state.State.Value is not { } chat)
        {
            return new ChatHistory(null, [], HasMore: false, ConversationRefusal.NotFound);
        }
        // Who may read comes first: a stranger learns nothing, not even how many messages there are.
        if (!mayRead(chat))
        {
            return new ChatHistory(null, [], HasMore: false, ConversationRefusal.NotParticipant);
        }
        if (afterSeq < 0 || afterSeq > chat.TotalMessages)
        {
            return new ChatHistory(null, [], HasMore: false, ConversationRefusal.OutOfRange);
        }
        // afterSeq is now at most an int's worth and count at most a page: nothing overflows.
        var to = Math.Min(chat.TotalMessages, afterSeq + count);
        var read = afterSeq < to ? await messages.ReadAsync(chat.Id, afterSeq + 1, to) : [];
        return new ChatHistory(chat, read, HasMore: to < chat.TotalMessages);
    }

    public async Task<ConversationMessage[]> Recent(int max) => state.State.Value is { TotalMessages: > 0 and var total } chat
        ? await messages.ReadAsync(chat.Id, Math.Max(1, total - max + 1), total)
        : [];

    private static ChatOutcome Refused(ConversationRefusal refusal) => new(null, refusal);

    private static bool IsParticipant(Chat chat, Participant who) => who.Role switch
    {
        ParticipantRole.Visitor => chat.VisitorId == who.Id,
        ParticipantRole.Commercial => chat.Status == ChatStatus.Active && chat.AssignedCommercialId == who.Id,
        _ => false,
    };

    private IParticipantGrain Visitor(Chat chat) => GrainFactory.GetGrain<IVisitorGrain>(chat.VisitorId);

    private IParticipantGrain Commercial(Guid commercialId) => GrainFactory.GetGrain<ICommercialGrain>(commercialId);

    private IEnumerable<IParticipantGrain> Participants(Chat chat) =>
        chat.AssignedCommercialId is { } commercial ? [Visitor(chat), Commercial(commercial)] : [Visitor(chat)];

    /// <summary>
    /// Tells the participants. What is delivered is already stored, so a failed delivery is
    /// logged and never fails the call: clients catch up from the chat's history.
    /// </summary>
    private async Task DeliverAsync(IEnumerable<IParticipantGrain> participants, ConversationEvent @event)
    {
        var deliveries = participants.Select(async participant =>
        {
            try
            {
                await participant.Deliver(@event);
            }
            catch (Exception exception)
            {
                LogDeliveryFailed(logger, exception, @event.GetType().Name, this.GetPrimaryKey());
            }
        });
        await Task.WhenAll(deliveries);
    }

    // Only its own sender can resend a message; anyone else reusing the id is refused.
    private static MessageOutcome Resent(ConversationMessage sent, Participant sender) =>
        sent.SenderRole == sender.Role && sent.SenderId == sender.Id
            ? new MessageOutcome(sent, Duplicate: true, Refusal: null)
            : new MessageOutcome(null, Duplicate: false, ConversationRefusal.MessageIdInUse);

    /// <summary>Stores the message with its event (null), or answers the chat's message that already has its client id.</summary>
    private async Task<ConversationMessage?> AppendAsync(ConversationMessage message, long eventSeq)
    {
        try
        {
            return await messages.AppendAsync(this.GetPrimaryKey(), message, eventSeq);
        }
        catch (InconsistentStateException)
        {
            // Another activation of this chat wrote since this one tallied (possible while the
            // membership changes): the next call meets an activation that read what is stored.
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>
    /// Brings the activation's message counters to what the message log holds (a message is not
    /// written to the chat's record); a record from before messages were rows first has its
    /// messages moved there.
    /// </summary>
    private async Task LoadConversationAsync()
    {
        if (state.State.Value is not { } chat)
        {
            return;
        }
        if (state.State.SealedPages > 0 || state.State.Messages.Length > 0)
        {
            await MoveMessagesToLogAsync(chat.Id);
        }
        var tally = await messages.TallyAsync(chat.Id, state.State.ReadUpToSeq);
        _lastMessageAt = tally.LastSentAt;
        _lastEventSeq = Math.Max(state.State.LastEventSeq, tally.LastEventSeq);
        state.State.Value = chat with
        {
            TotalMessages = checked((int)tally.LastSeq),
            UnreadMessagesCount = tally.UnreadByCommercial,
            UpdatedAt = tally.LastSentAt > chat.UpdatedAt ? tally.LastSentAt.Value : chat.UpdatedAt,
        };
    }

    private async Task MoveMessagesToLogAsync(Guid chatId)
    {
        var record = state.State;
        var sealedPages = await Task.WhenAll(Enumerable.Range(0, record.SealedPages)
            .Select(index => GrainFactory.GetGrain<IChatHistoryPageGrain>(ChatRecord.PageKey(chatId, index)).Read()));
        await messages.ImportAsync(chatId, [.. sealedPages.SelectMany(page => page), .. record.Messages]);
        try
        {
            await StoreAsync(moved =>
            {
                moved.Messages = [];
                moved.SealedPages = 0;
            });
        }
        catch (Exception exception)
        {
            // The import is repeated, changing nothing, at the next activation.
            LogMessagesNotMoved(logger, exception, chatId);
        }
    }

    /// <summary>
    /// Changes the record and stores it, with the event of <paramref name="eventType"/> (the
    /// chat's next event number, at its <c>UpdatedAt</c>) when the change is one; on failure the
    /// activation's record is what it was.
    /// </summary>
    private async Task StoreAsync(Action<ChatRecord> change, string? eventType = null)
    {
        var before = state.State.Snapshot();
        change(state.State);
        var eventSeq = _lastEventSeq + 1;
        if (eventType is not null && state.State.Value is { } changed)
        {
            state.State.LastEventSeq = eventSeq;
            state.State.Events = [new RecordedEvent(eventType, changed.UpdatedAt, changed.Id, eventSeq)];
        }
        try
        {
            await state.WriteOrRestoreAsync(() => state.State = before);
        }
        catch (InconsistentStateException)
        {
            // Another activation wrote: its record is taken, but this activation's message
            // counters are not; the next call meets an activation that tallied them.
            DeactivateOnIdle();
            throw;
        }
        finally
        {
            state.State.Events = [];
        }
        if (eventType is not null)
        {
            _lastEventSeq = eventSeq;
            metrics.EventStored(eventType);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Delivering {Event} of chat {ChatId} failed; the stored chat stands and clients catch up")]
    private static partial void LogDeliveryFailed(ILogger logger, Exception exception, string @event, Guid chatId);

    [LoggerMessage(LogLevel.Warning, "Moved the messages of chat {ChatId} to the message log but could not clear them from its record; moved again, changing nothing, at its next activation")]
    private static partial void LogMessagesNotMoved(ILogger logger, Exception exception, Guid chatId);
}
