using Microsoft.Extensions.Logging;

namespace ChatGrains.Grains;

/// <summary>
/// The conversation of a chat: accepting it, its messages and what the commercial has read.
/// Every change is stored before anyone is told, and the single activation orders the messages:
/// each gets the next sequence number, and is delivered to both participants before the next.
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

        var before = state.State.Snapshot();
        var accepted = chat with { Status = ChatStatus.Active, AssignedCommercialId = commercialId, UpdatedAt = Now() };
        state.State.Value = accepted;
        await StoreAsync(before);

        await Task.WhenAll(
            DeliverAsync([Visitor(accepted)], new ChatAccepted(accepted)),
            WithdrawOffersAsync(accepted));
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
        if (await FindSentAsync(command.ClientMessageId) is { } sent)
        {
            // Only its own sender can resend a message; anyone else reusing the id is refused.
            return sent.SenderRole == command.Sender.Role && sent.SenderId == command.Sender.Id
                ? new MessageOutcome(sent, Duplicate: true, Refusal: null)
                : new MessageOutcome(null, Duplicate: false, ConversationRefusal.MessageIdInUse);
        }
        // Only the visitor writes while PENDING, so every message stored so far is the visitor's.
        if (chat.Status == ChatStatus.Pending && chat.TotalMessages >= command.MaxWhilePending)
        {
            return new MessageOutcome(null, Duplicate: false, ConversationRefusal.AwaitingAgent);
        }

        var before = state.State.Snapshot();
        var now = Now();
        var message = new ConversationMessage(chat.TotalMessages + 1, command.ClientMessageId, command.Sender.Role, command.Sender.Id, command.Text, now);
        await AppendAsync(message);
        var updated = chat with
        {
            TotalMessages = chat.TotalMessages + 1,
            UnreadMessagesCount = chat.UnreadMessagesCount + (message.SenderRole == ParticipantRole.Visitor ? 1 : 0),
            UpdatedAt = now,
        };
        state.State.Value = updated;
        await StoreAsync(before);

        await DeliverAsync(Participants(updated), new MessageReceived(chat.Id, message));
        return new MessageOutcome(message, Duplicate: false, Refusal: null);
    }

    public async Task<ChatOutcome> MarkRead(Guid commercialId, long upToSeq)
    {
        if (state.State.Value is not { } chat)
        {
            return Refused(ConversationRefusal.NotFound);
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

        var unread = (await MessagesAsync(upTo + 1, chat.TotalMessages)).Count(m => m.SenderRole == ParticipantRole.Visitor);
        var before = state.State.Snapshot();
        var updated = chat with { UnreadMessagesCount = unread, UpdatedAt = Now() };
        state.State.Value = updated;
        state.State.ReadUpToSeq = upTo;
        await StoreAsync(before);
        return new ChatOutcome(updated, Refusal: null);
    }

    public async Task<ChatHistory> History(ChatReader reader, long afterSeq, int max)
    {
        if (state.State.Value is not { } chat)
        {
            return new ChatHistory(null, [], HasMore: false, ConversationRefusal.NotFound);
        }
        // Who may read comes first: a stranger learns nothing, not even how many messages there are.
        if (!reader.MayRead(chat))
        {
            return new ChatHistory(null, [], HasMore: false, ConversationRefusal.NotParticipant);
        }
        if (afterSeq < 0 || afterSeq > chat.TotalMessages)
        {
            return new ChatHistory(null, [], HasMore: false, ConversationRefusal.OutOfRange);
        }
        // afterSeq is now at most an int's worth and count at most a few pages: nothing overflows,
        // and one call reads no more pages than MaxMessages spans.
        var count = Math.Clamp(max, 0, ChatHistory.MaxMessages);
        var to = Math.Min(chat.TotalMessages, afterSeq + count);
        var messages = afterSeq < to ? await MessagesAsync(afterSeq + 1, to) : [];
        return new ChatHistory(chat, messages, HasMore: to < chat.TotalMessages);
    }

    public async Task<ConversationMessage[]> Recent(int max)
    {
        var total = state.State.Value?.TotalMessages ?? 0;
        return total == 0 ? [] : await MessagesAsync(Math.Max(1, total - max + 1), total);
    }

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

    /// <summary>Appends to the open page, first sealing it into its own record when it is full.</summary>
    private async Task AppendAsync(ConversationMessage message)
    {
        var record = state.State;
        if (record.Messages.Length < ChatRecord.PageSize)
        {
            record.Messages = [.. record.Messages, message];
            return;
        }
        await Page(record.SealedPages).Store(record.Messages);
        record.LastSealedIds = [.. record.Messages.Select(m => m.Id)];
        record.SealedPages++;
        record.Messages = [message];
    }

    /// <summary>The stored message with this client id, looked for in the open page and the last sealed one.</summary>
    private async Task<ConversationMessage?> FindSentAsync(Guid clientMessageId)
    {
        var record = state.State;
        if (record.Messages.FirstOrDefault(m => m.Id == clientMessageId) is { } open)
        {
            return open;
        }
        if (!record.LastSealedIds.Contains(clientMessageId))
        {
            return null;
        }
        return (await Page(record.SealedPages - 1).Read()).FirstOrDefault(m => m.Id == clientMessageId);
    }

    /// <summary>
    /// Messages <paramref name="from"/> … <paramref name="to"/>, oldest first: sealed pages from
    /// their records, the rest from memory. Reads may interleave with a send (it can seal a page
    /// meanwhile), so what was taken from memory is taken before any await.
    /// </summary>
    private async Task<ConversationMessage[]> MessagesAsync(long from, long to)
    {
        var open = state.State.Messages;
        var firstOpen = state.State.FirstOpenSeq;
        var sealedTo = Math.Min(to, firstOpen - 1);
        var sealedPages = from <= sealedTo
            ? await Task.WhenAll(Enumerable.Range(ChatRecord.PageOf(from), ChatRecord.PageOf(sealedTo) - ChatRecord.PageOf(from) + 1).Select(index => Page(index).Read()))
            : [];
        return [.. sealedPages.SelectMany(page => page).Concat(open)
            .Where(m => m.Seq >= from && m.Seq <= to)
            .DistinctBy(m => m.Seq)
            .OrderBy(m => m.Seq)];
    }

    private IChatHistoryPageGrain Page(int index) =>
        GrainFactory.GetGrain<IChatHistoryPageGrain>(ChatRecord.PageKey(this.GetPrimaryKey(), index));

    /// <summary>Stores the record; on failure memory goes back to <paramref name="before"/>.</summary>
    private Task StoreAsync(ChatRecord before) => state.WriteOrRestoreAsync(() => state.State = before);

    [LoggerMessage(LogLevel.Warning, "Delivering {Event} of chat {ChatId} failed; the stored chat stands and clients catch up")]
    private static partial void LogDeliveryFailed(ILogger logger, Exception exception, string @event, Guid chatId);
}
