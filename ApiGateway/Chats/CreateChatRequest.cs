using System.Text.Json;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.Chats;

/// <summary>The body of <c>PUT /v2/chats/{chatId}</c>, as the client sends it.</summary>
public sealed record CreateChatRequest(
    string? VisitorId,
    VisitorInfoRequest? VisitorInfo,
    IReadOnlyList<string?>? AvailableCommercialIds,
    string? Priority,
    ChatMetadataRequest? Metadata)
{
    public const int MaxCommercials = 100;
    public const int MaxTags = 20;
    public const int MaxCustomFields = 50;
    public const int MaxCustomFieldsDepth = 3;
    public const int MaxCustomFieldsBytes = 4096;

    /// <summary>Checks every field and, when all are valid, returns the command; otherwise null.</summary>
    public CreateChat? ToCommand(FieldErrors errors)
    {
        var visitorId = errors.Uuid("visitorId", VisitorId);
        var visitor = ParseVisitor(errors);
        var commercials = ParseCommercials(errors);
        var priority = ParsePriority(errors);
        var metadata = ParseMetadata(errors);
        return errors.IsEmpty
            ? new CreateChat(visitorId, visitor!, [.. commercials], priority, metadata)
            : null;
    }

    private Visitor? ParseVisitor(FieldErrors errors)
    {
        if (VisitorInfo is not { } info)
        {
            errors.Add("visitorInfo", "'visitorInfo' is required.");
            return null;
        }
        return new Visitor(
            Name: errors.Text("visitorInfo.name", info.Name, maxLength: 100, required: true)!,
            Email: errors.Email("visitorInfo.email", info.Email, required: true)!,
            Phone: errors.Phone("visitorInfo.phone", info.Phone),
            Company: errors.Text("visitorInfo.company", info.Company, maxLength: 200),
            IpAddress: errors.IpAddress("visitorInfo.ipAddress", info.IpAddress),
            Country: errors.Text("visitorInfo.location.country", info.Location?.Country, maxLength: 100),
            City: errors.Text("visitorInfo.location.city", info.Location?.City, maxLength: 100),
            Referrer: errors.HttpUrl("visitorInfo.referrer", info.Referrer),
            UserAgent: errors.Text("visitorInfo.userAgent", info.UserAgent, maxLength: 512));
    }

    private List<Guid> ParseCommercials(FieldErrors errors)
    {
        const string field = "availableCommercialIds";
        if (AvailableCommercialIds is not { Count: > 0 } ids)
        {
            errors.Add(field, $"'{field}' must list at least one commercial id.");
            return [];
        }
        if (ids.Count > MaxCommercials)
        {
            errors.Add(field, $"'{field}' may list at most {MaxCommercials} ids.");
            return [];
        }
        var parsed = new List<Guid>(ids.Count);
        for (var i = 0; i < ids.Count; i++)
        {
            parsed.Add(errors.Uuid($"{field}[{i}]", ids[i]));
        }
        if (parsed.Distinct().Count() != parsed.Count)
        {
            errors.Add(field, $"'{field}' must not repeat an id.");
        }
        return parsed;
    }

    private ChatPriority ParsePriority(FieldErrors errors)
    {
        switch (Priority)
        {
            case null: return ChatPriority.Normal;
            case "LOW": return ChatPriority.Low;
            case "NORMAL": return ChatPriority.Normal;
            case "HIGH": return ChatPriority.High;
            case "URGENT": return ChatPriority.Urgent;
            default:
                errors.Add("priority", "'priority' must be one of LOW, NORMAL, HIGH, URGENT.");
                return ChatPriority.Normal;
        }
    }

    private ChatMetadata ParseMetadata(FieldErrors errors)
    {
        if (Metadata is not { } metadata)
        {
            return new ChatMetadata();
        }
        return new ChatMetadata(
            Department: errors.Text("metadata.department", metadata.Department, maxLength: 100),
            Product: errors.Text("metadata.product", metadata.Product, maxLength: 200),
            Source: errors.Text("metadata.source", metadata.Source, maxLength: 100),
            Campaign: errors.Text("metadata.campaign", metadata.Campaign, maxLength: 200),
            UtmSource: errors.Text("metadata.utmSource", metadata.UtmSource, maxLength: 200),
            UtmMedium: errors.Text("metadata.utmMedium", metadata.UtmMedium, maxLength: 200),
            UtmCampaign: errors.Text("metadata.utmCampaign", metadata.UtmCampaign, maxLength: 200),
            InitialUrl: errors.HttpUrl("metadata.initialUrl", metadata.InitialUrl))
        {
            Tags = [.. ParseTags(errors, metadata.Tags)],
            CustomFields = ParseCustomFields(errors, metadata.CustomFields),
        };
    }

    private static List<string> ParseTags(FieldErrors errors, IReadOnlyList<string?>? tags)
    {
        if (tags is null)
        {
            return [];
        }
        if (tags.Count > MaxTags)
        {
            errors.Add("metadata.tags", $"'metadata.tags' may hold at most {MaxTags} tags.");
            return [];
        }
        var parsed = new List<string>(tags.Count);
        for (var i = 0; i < tags.Count; i++)
        {
            var tag = errors.Text($"metadata.tags[{i}]", tags[i], maxLength: 50, required: true);
            if (tag is not null)
            {
                parsed.Add(tag);
            }
        }
        return parsed;
    }

    private static Dictionary<string, JsonElement> ParseCustomFields(FieldErrors errors, JsonElement? customFields)
    {
        const string field = "metadata.customFields";
        if (customFields is not { ValueKind: not JsonValueKind.Null } fields)
        {
            return [];
        }
        if (fields.ValueKind != JsonValueKind.Object)
        {
            errors.Add(field, $"'{field}' must be a JSON object.");
            return [];
        }
        if (fields.GetRawText().Length > MaxCustomFieldsBytes)
        {
            errors.Add(field, $"'{field}' must be at most {MaxCustomFieldsBytes} characters of JSON.");
            return [];
        }
        if (Depth(fields) > MaxCustomFieldsDepth)
        {
            errors.Add(field, $"'{field}' may nest objects and arrays at most {MaxCustomFieldsDepth} levels deep.");
            return [];
        }
        // Before any key or value is read as a string: System.Text.Json throws on an unpaired surrogate.
        var keys = new List<string>();
        if (LenientJsonStrings.HasUnpairedSurrogates(fields, keys))
        {
            errors.Add(field, FieldErrors.UnpairedSurrogateMessage(field));
            return [];
        }
        if (keys.Any(key => key.Length is 0 or > 64 || FieldErrors.HasControlCharacters(key) || FieldErrors.HasSpoofingCharacters(key)))
        {
            errors.Add(field, $"'{field}' keys must be 1 to 64 characters without control, invisible format or separator characters.");
            return [];
        }
        var parsed = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in fields.EnumerateObject())
        {
            parsed[property.Name] = property.Value.Clone();
        }
        if (parsed.Count > MaxCustomFields)
        {
            errors.Add(field, $"'{field}' may hold at most {MaxCustomFields} keys.");
            return [];
        }
        return parsed;
    }

    private static int Depth(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => 1 + element.EnumerateObject().Select(p => Depth(p.Value)).DefaultIfEmpty(0).Max(),
        JsonValueKind.Array => 1 + element.EnumerateArray().Select(Depth).DefaultIfEmpty(0).Max(),
        _ => 0,
    };
}

public sealed record VisitorInfoRequest(
    string? Name,
    string? Email,
    string? Phone,
    string? Company,
    string? IpAddress,
    LocationRequest? Location,
    string? Referrer,
    string? UserAgent);

public sealed record LocationRequest(string? Country, string? City);

public sealed record ChatMetadataRequest(
    string? Department,
    string? Product,
    string? Source,
    IReadOnlyList<string?>? Tags,
    string? Campaign,
    string? UtmSource,
    string? UtmMedium,
    string? UtmCampaign,
    string? InitialUrl,
    JsonElement? CustomFields);
