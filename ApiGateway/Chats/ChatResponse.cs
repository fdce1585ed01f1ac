using System.Text.Json;
using System.Text.Json.Serialization;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.Chats;

/// <summary>The chat resource as the v2 spec shows it.</summary>
public sealed record ChatResponse(
    Guid Id,
    ChatStatus Status,
    ChatPriority Priority,
    Guid VisitorId,
    Guid? AssignedCommercialId,
    IReadOnlyList<Guid> AvailableCommercialIds,
    int TotalMessages,
    int UnreadMessagesCount,
    bool IsActive,
    string? Department,
    IReadOnlyList<string> Tags,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset CreatedAt,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset UpdatedAt,
    VisitorInfoResponse VisitorInfo,
    ChatMetadataResponse Metadata,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset? ClosedAt,
    ChatActor? ClosedBy,
    CloseReason? CloseReason,
    string? CloseNote,
    int Episode,
    RatingResource? Rating)
{
    public static ChatResponse From(Chat chat) => new(
        Id: chat.Id,
        Status: chat.Status,
        Priority: chat.Priority,
        VisitorId: chat.VisitorId,
        AssignedCommercialId: chat.AssignedCommercialId,
        AvailableCommercialIds: chat.AvailableCommercialIds,
        TotalMessages: chat.TotalMessages,
        UnreadMessagesCount: chat.UnreadMessagesCount,
        IsActive: chat.IsActive,
        Department: chat.Metadata.Department,
        Tags: chat.Metadata.Tags,
        CreatedAt: chat.CreatedAt,
        UpdatedAt: chat.UpdatedAt,
        VisitorInfo: new VisitorInfoResponse(
            Id: chat.VisitorId,
            Name: chat.Visitor.Name,
            Email: chat.Visitor.Email,
            Phone: chat.Visitor.Phone,
            Location: chat.Visitor.City,
            AdditionalData: new VisitorAdditionalData(
                Company: chat.Visitor.Company,
                IpAddress: chat.Visitor.IpAddress,
                UserAgent: chat.Visitor.UserAgent,
                Referrer: chat.Visitor.Referrer,
                Country: chat.Visitor.Country)),
        Metadata: new ChatMetadataResponse(
            Department: chat.Metadata.Department,
            Product: chat.Metadata.Product,
            Source: chat.Metadata.Source,
            Campaign: chat.Metadata.Campaign,
            UtmSource: chat.Metadata.UtmSource,
            UtmMedium: chat.Metadata.UtmMedium,
            UtmCampaign: chat.Metadata.UtmCampaign,
            InitialUrl: chat.Metadata.InitialUrl,
            UserAgent: chat.Visitor.UserAgent,
            Referrer: chat.Visitor.Referrer,
            Tags: chat.Metadata.Tags,
            CustomFields: chat.Metadata.CustomFields),
        ClosedAt: chat.ClosedAt,
        ClosedBy: chat.ClosedBy,
        CloseReason: chat.CloseReason,
        CloseNote: chat.CloseNote,
        Episode: chat.Episode,
        Rating: RatingResource.From(chat.Rating));
}

/// <summary><c>location</c> is the city; what the spec has no field for goes to <c>additionalData</c>.</summary>
public sealed record VisitorInfoResponse(
    Guid Id,
    string Name,
    string Email,
    string? Phone,
    string? Location,
    VisitorAdditionalData AdditionalData);

public sealed record VisitorAdditionalData(
    string? Company,
    string? IpAddress,
    string? UserAgent,
    string? Referrer,
    string? Country);

public sealed record ChatMetadataResponse(
    string? Department,
    string? Product,
    string? Source,
    string? Campaign,
    string? UtmSource,
    string? UtmMedium,
    string? UtmCampaign,
    string? InitialUrl,
    string? UserAgent,
    string? Referrer,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, JsonElement> CustomFields);
