using Orleans.Storage;

namespace ChatGrains.Grains;

/// <summary>
/// <c>Sessions:*</c>. Guest and live-chat sessions hold what a visitor said about itself (names,
/// e-mails, phones, cities): they are kept <see cref="Retention"/> after their last use, then removed.
/// </summary>
public sealed class SessionOptions
{
    public const string Section = "Sessions";

    /// <summary>
    /// The records of a session, of its visitor's open-chat count and of its client address's
    /// pending chats (keyed by the visitor's IP): every row a session causes besides chats, which
    /// are kept. Each goes <see cref="Retention"/> after its last write.
    /// </summary>
    public static readonly IReadOnlyList<string> StateNames =
        [GrainStorage.GuestSession, GrainStorage.LiveChatSession, GrainStorage.Visitor, GrainStorage.ClientAddress];

    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often each node deletes the expired records that no call reaches any more.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A replay writes its last-use time at most this often, so replays do not each cost a write:
    /// once a day, or once per tenth of a shorter retention.
    /// </summary>
    public TimeSpan RefreshInterval => Retention / 10 < TimeSpan.FromDays(1) ? Retention / 10 : TimeSpan.FromDays(1);
}

/// <summary>The persistent state of a session grain: its record and when it was last used.</summary>
public sealed class SessionRecord<T> : CreatedOnce<T> where T : class
{
    /// <summary>The last replay that refreshed it; until one does (and on older records), the creation counts.</summary>
    public DateTimeOffset? LastUsedAt { get; set; }
}

internal static class SessionRecords
{
    /// <summary>
    /// Create-or-get for a session, stored with the event <paramref name="started"/> makes of it.
    /// A record unused for longer than the retention is treated as absent: removed, so a session
    /// with the same key starts afresh. A replay refreshes the last-use time once per
    /// <see cref="SessionOptions.RefreshInterval"/>.
    /// </summary>
    public static async Task<(T Value, bool Created)> OpenAsync<T>(
        this IPersistentState<SessionRecord<T>> state, Func<T> create, Func<T, DateTimeOffset> createdAt, string started,
        SessionOptions options, DateTimeOffset now)
        where T : class
    {
        if (state.State.Value is { } stale && now - LastUse(state.State, stale, createdAt) > options.Retention)
        {
            // The sweep may have deleted the row already: clear what is stored, under its ETag, if anything.
            await state.ReadStateAsync();
            if (state.State.Value is not null)
            {
                await state.ClearStateAsync();
            }
        }
        var (value, created) = await state.GetOrCreateAsync(create, session => new RecordedEvent(started, createdAt(session)));
        if (!created && now - LastUse(state.State, value, createdAt) >= options.RefreshInterval)
        {
            var before = state.State.LastUsedAt;
            state.State.LastUsedAt = now;
            try
            {
                await state.WriteOrRestoreAsync(() => state.State.LastUsedAt = before);
            }
            catch (InconsistentStateException)
            {
                // Another activation wrote meanwhile (its state is now ours); the record answered stands.
            }
        }
        return (value, created);
    }

    private static DateTimeOffset LastUse<T>(SessionRecord<T> record, T value, Func<T, DateTimeOffset> createdAt) where T : class =>
        record.LastUsedAt ?? createdAt(value);
}
