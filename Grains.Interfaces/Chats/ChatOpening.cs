namespace ChatGrains.Grains;

/// <summary>
/// What a creation must pass, decided at the edge from the caller: the rate limits (in the order
/// they are consulted) and, for a visitor opening its own chat, the cap on its open chats, the
/// commercials it may offer the chat to (<see cref="OnDutyCommercialIds"/> and those that have
/// signed in; null: any, as for staff) and the cap on its client address's pending chats.
/// A replay of an existing chat consults none of them.
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatCreationLimits")]
public sealed record ChatCreationLimits(
    [property: Id(0)] RateLimitRule[] RateLimits,
    [property: Id(1)] int? MaxOpenPerVisitor,
    [property: Id(2)] Guid[]? OnDutyCommercialIds = null,
    [property: Id(3)] PendingChatCap? ClientAddressCap = null)
{
    public static readonly ChatCreationLimits None = new([], null);

    /// <summary>Whether a creation has anything to consult (a replay never does).</summary>
    public bool ConsultsAny => RateLimits.Length > 0 || MaxOpenPerVisitor is not null || OnDutyCommercialIds is not null || ClientAddressCap is not null;
}

/// <summary>At most <paramref name="MaxPending"/> PENDING chats created from the client <paramref name="ClientKey"/>.</summary>
[GenerateSerializer, Immutable, Alias("chatgrains.PendingChatCap")]
public sealed record PendingChatCap([property: Id(0)] string ClientKey, [property: Id(1)] int MaxPending);

[GenerateSerializer, Alias("chatgrains.ChatRefusal")]
public enum ChatRefusal
{
    /// <summary>A rate limit refused the creation; see the decisions.</summary>
    RateLimited,

    /// <summary>The visitor already has <see cref="ChatCreationLimits.MaxOpenPerVisitor"/> open chats.</summary>
    VisitorAtCap,

    /// <summary>A named commercial is neither on duty nor has ever signed in.</summary>
    UnknownCommercial,

    /// <summary>The client address already has <see cref="PendingChatCap.MaxPending"/> PENDING chats.</summary>
    ClientAddressAtCap,
}

/// <summary>
/// The outcome of <see cref="IChatGrain.Open"/>: the chat as stored (null when refused), whether
/// this call created it, one decision per rate limit consulted (empty for a replay), and why a
/// creation was refused.
/// </summary>
[GenerateSerializer, Immutable, Alias("chatgrains.ChatOpening")]
public sealed record ChatOpening(
    [property: Id(0)] Chat? Chat,
    [property: Id(1)] bool Created,
    [property: Id(2)] RateLimitDecision[] RateLimits,
    [property: Id(3)] ChatRefusal? Refusal);
