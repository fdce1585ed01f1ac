using Microsoft.Extensions.Logging;

namespace ChatGrains.Grains;

/// <summary>
/// A chat's timeouts: a PENDING chat nobody accepts closes as UNANSWERED, an ACTIVE chat without
/// messages is warned (<c>chatIdle</c>) and then closes as INACTIVITY. No timer is kept in
/// memory: the chat's next deadline is a row (<see cref="IChatDeadlines"/>), set before the change
/// that needs it is stored and never later than the chat's real deadline, and a node's sweep asks
/// this grain once it has come. A message does not move the row: asked early, the grain sets the
/// deadline its last message gives.
/// </summary>
public sealed partial class ChatGrain
{
    /// <summary>
    /// The close time this activation last warned of: a sweep asking again before the deadline
    /// row moved (its claim outlived its lease) does not warn twice.
    /// </summary>
    private DateTimeOffset? _warnedOfCloseAt;

    public async Task CheckTimeouts()
    {
        var chatId = this.GetPrimaryKey();
        if (state.State.Value is not { Status: not ChatStatus.Closed } chat)
        {
            await deadlines.ClearAsync(chatId);
            return;
        }

        var now = Now();
        var limits = timeouts.Value;
        if (chat.Status == ChatStatus.Pending)
        {
            var unansweredAt = UnansweredAt(StatusSince(chat));
            await (now >= unansweredAt
                ? CloseAsync(chat, ChatActor.System, CloseReason.Unanswered, note: null)
                : deadlines.SetAsync(chatId, unansweredAt));
            return;
        }

        var closesAt = LastActivity(chat) + limits.InactivityTimeout;
        var warnAt = closesAt - limits.InactivityWarning;
        if (now >= closesAt)
        {
            await CloseAsync(chat, ChatActor.System, CloseReason.Inactivity, note: null);
        }
        else if (now >= warnAt)
        {
            // The deadline moves first, so the warning is not told again by the next sweep.
            await deadlines.SetAsync(chatId, closesAt);
            if (_warnedOfCloseAt != closesAt)
            {
                _warnedOfCloseAt = closesAt;
                await DeliverAsync(Participants(chat), new ChatIdle(chatId, closesAt));
            }
        }
        else
        {
            await deadlines.SetAsync(chatId, warnAt);
        }
    }

    /// <summary>
    /// Best effort, for a deadline moved later or cleared: the earlier one left in place asks this
    /// grain, which sets or clears it then.
    /// </summary>
    private async Task MoveDeadlineAsync(Guid chatId, Func<IChatDeadlines, Task> move)
    {
        try
        {
            await move(deadlines);
        }
        catch (Exception exception)
        {
            LogDeadlineNotMoved(logger, exception, chatId);
        }
    }

    /// <summary>When an ACTIVE chat accepted at <paramref name="now"/> is first to be checked: its warning time.</summary>
    private DateTimeOffset InactivityWarningAt(DateTimeOffset now) =>
        now + timeouts.Value.InactivityTimeout - timeouts.Value.InactivityWarning;

    /// <summary>When a chat that became PENDING at <paramref name="since"/> goes unanswered.</summary>
    private DateTimeOffset UnansweredAt(DateTimeOffset since) => since + timeouts.Value.UnansweredTimeout;

    /// <summary>When the chat's status last changed: its creation, acceptance or reopening.</summary>
    private DateTimeOffset StatusSince(Chat chat) => state.State.StatusSince ?? chat.CreatedAt;

    /// <summary>The chat's last message in this episode, or the change that made it ACTIVE.</summary>
    private DateTimeOffset LastActivity(Chat chat) =>
        _lastMessageAt is { } sent && sent > StatusSince(chat) ? sent : StatusSince(chat);

    [LoggerMessage(LogLevel.Warning, "Could not move the deadline of chat {ChatId}; the earlier one left in place corrects it")]
    private static partial void LogDeadlineNotMoved(ILogger logger, Exception exception, Guid chatId);
}
