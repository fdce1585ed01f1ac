namespace ChatGrains.Grains;

/// <summary>
/// When each open chat's grain must next check its timeouts, kept as rows so that a chat whose
/// grain is not in memory, or whose node died, still closes on time, and no timer is kept per
/// chat. A deadline may be earlier than the chat's real one (the grain, asked, sets the next), so
/// it is set before the change that needs it is stored; it is never later.
/// </summary>
public interface IChatDeadlines
{
    /// <summary>Sets when the chat's grain is next asked (replacing any earlier setting).</summary>
    Task SetAsync(Guid chatId, DateTimeOffset dueAt);

    /// <summary>Forgets the chat's deadline (a closed chat has none).</summary>
    Task ClearAsync(Guid chatId);

    /// <summary>
    /// Up to <paramref name="max"/> chats due at <paramref name="now"/>, earliest first, each
    /// moved to <paramref name="now"/> + <paramref name="lease"/> so that no other sweep claims it
    /// meanwhile; one whose grain is not asked (its node died) is claimed again once the lease ends.
    /// </summary>
    Task<IReadOnlyList<Guid>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int max, CancellationToken cancellationToken);
}
