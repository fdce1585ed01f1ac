using System.Text.RegularExpressions;
using ChatGrains.ApiGateway.Http;

namespace ChatGrains.ApiGateway.LiveChat;

/// <summary>The body of <c>POST /livechat/session</c>; <c>captchaToken</c> only when a captcha is configured.</summary>
public sealed partial record LiveChatSessionRequest(string? Name, string? City, string? Country, string? CaptchaToken = null)
{
    public const int MinLength = 2;
    public const int MaxLength = 100;

    /// <summary>Checks the three fields; returns them trimmed when all are valid. Messages are in <paramref name="messages"/>' language.</summary>
    public (string Name, string City, string Country)? Validate(FieldErrors errors, LiveChatMessages messages, bool captchaRequired = false)
    {
        var name = Field(errors, messages, "name", Name);
        var city = Field(errors, messages, "city", City);
        var country = Field(errors, messages, "country", Country);
        if (captchaRequired && string.IsNullOrWhiteSpace(CaptchaToken))
        {
            errors.Add("captchaToken", messages.CaptchaRequired);
        }
        return errors.IsEmpty ? (name!, city!, country!) : null;
    }

    /// <summary>
    /// Letters of any script, digits, spaces and a little punctuation: enough for "Daerah Istimewa
    /// Yogyakarta" or "Côte d'Ivoire", and no markup (&lt; &gt; " &amp;) or control characters at all.
    /// </summary>
    private static string? Field(FieldErrors errors, LiveChatMessages messages, string field, string? value)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            errors.Add(field, messages.Required(field));
            return null;
        }
        if (text.Length < MinLength)
        {
            errors.Add(field, messages.TooShort(field, MinLength));
        }
        else if (text.Length > MaxLength)
        {
            errors.Add(field, messages.TooLong(field, MaxLength));
        }
        else if (!Allowed().IsMatch(text))
        {
            errors.Add(field, messages.Disallowed(field));
        }
        return text;
    }

    [GeneratedRegex(@"^[\p{L}\p{M}\p{Nd} .,'’()\-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Allowed();
}

/// <summary>201 body: the token for the WebSocket connection, and what it says, for convenience.</summary>
public sealed record LiveChatSessionResponse(
    string SessionToken,
    Guid SessionId,
    Guid UserId,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset ExpiresAt);

/// <summary>422 body, as the spec shows: <c>{"errors": {"name": ["Nama wajib diisi."]}}</c>.</summary>
public sealed record LiveChatValidationErrors(IReadOnlyDictionary<string, string[]> Errors);

/// <summary>Any other error: one message in the client's language.</summary>
public sealed record LiveChatError(string Message);

/// <summary>
/// Errors as the live-chat spec words them: validation (and unreadable JSON) → 422 with the
/// field map; anything else → <c>{"message"}</c>, Indonesian unless the client prefers English.
/// </summary>
public sealed class LiveChatErrorFormat : ApiErrorFormat
{
    public static readonly LiveChatErrorFormat Instance = new();

    public override IResult Respond(HttpContext http, int status, string message, IReadOnlyDictionary<string, string[]>? fieldErrors = null)
    {
        var messages = LiveChatMessages.For(http.Request);
        if (status is StatusCodes.Status400BadRequest or StatusCodes.Status422UnprocessableEntity)
        {
            // What reaches here is JSON the binder could not read: say so per field, in our words.
            var errors = fieldErrors is { Count: > 0 }
                ? fieldErrors.ToDictionary(e => e.Key, e => new[] { messages.WrongType(e.Key) }, StringComparer.Ordinal)
                : new Dictionary<string, string[]>(StringComparer.Ordinal) { ["body"] = [messages.InvalidBody] };
            return Invalid(errors);
        }
        return TypedResults.Json(new LiveChatError(messages.ForStatus(status)), ApiJson.Wire.LiveChatError, statusCode: status);
    }

    public static Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<LiveChatValidationErrors> Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        TypedResults.Json(new LiveChatValidationErrors(errors), ApiJson.Wire.LiveChatValidationErrors, statusCode: StatusCodes.Status422UnprocessableEntity);
}
