using System.Text.Json;
using System.Text.Json.Serialization;

namespace ChatGrains.Grains;

/// <summary>A chat grain: one conversation, identified by the client-chosen chat id.</summary>
public interface IChatGrain
{
    Guid Id { get; }

    /// <summary>Creates the chat unless it exists; either way returns the chat as first stored.</summary>
    Task<ChatCreation> CreateOrGetAsync(CreateChat command, CancellationToken cancellationToken);
}

[JsonConverter(typeof(JsonStringEnumConverter<ChatStatus>))]
public enum ChatStatus
{
    [JsonStringEnumMemberName("PENDING")] Pending,
    [JsonStringEnumMemberName("ASSIGNED")] Assigned,
    [JsonStringEnumMemberName("CLOSED")] Closed,
}

[JsonConverter(typeof(JsonStringEnumConverter<ChatPriority>))]
public enum ChatPriority
{
    [JsonStringEnumMemberName("LOW")] Low,
    [JsonStringEnumMemberName("NORMAL")] Normal,
    [JsonStringEnumMemberName("HIGH")] High,
    [JsonStringEnumMemberName("URGENT")] Urgent,
}

/// <summary>Who opened the chat. Everything but name and e-mail is optional.</summary>
public sealed record Visitor(
    string Name,
    string Email,
    string? Phone = null,
    string? Company = null,
    string? IpAddress = null,
    string? Country = null,
    string? City = null,
    string? Referrer = null,
    string? UserAgent = null);

/// <summary>Where the chat came from; carried as sent.</summary>
public sealed record ChatMetadata(
    string? Department = null,
    string? Product = null,
    string? Source = null,
    string? Campaign = null,
    string? UtmSource = null,
    string? UtmMedium = null,
    string? UtmCampaign = null,
    string? InitialUrl = null,
    IReadOnlyList<string>? Tags = null,
    IReadOnlyDictionary<string, JsonElement>? CustomFields = null)
{
    public IReadOnlyList<string> Tags { get; init; } = Tags ?? [];
    public IReadOnlyDictionary<string, JsonElement> CustomFields { get; init; } = CustomFields ?? new Dictionary<string, JsonElement>();
}

/// <summary>The request to open a chat, already validated at the edge.</summary>
public sealed record CreateChat(
    Guid VisitorId,
    Visitor Visitor,
    IReadOnlyList<Guid> AvailableCommercialIds,
    ChatPriority Priority,
    ChatMetadata Metadata);

/// <summary>A chat grain's state.</summary>
public sealed record Chat(
    Guid Id,
    ChatStatus Status,
    ChatPriority Priority,
    Guid VisitorId,
    Guid? AssignedCommercialId,
    IReadOnlyList<Guid> AvailableCommercialIds,
    int TotalMessages,
    int UnreadMessagesCount,
    bool IsActive,
    Visitor Visitor,
    ChatMetadata Metadata,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>The outcome of create-or-get: <see cref="Created"/> is false when the chat already existed.</summary>
public sealed record ChatCreation(Chat Chat, bool Created);

/// <summary>Written to the outbox in the same transaction as the chat row.</summary>
public sealed record ChatCreated(
    Guid ChatId,
    Guid VisitorId,
    IReadOnlyList<Guid> AvailableCommercialIds,
    ChatPriority Priority,
    string? Department,
    DateTimeOffset OccurredAt);
