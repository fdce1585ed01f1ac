using System.Globalization;
using System.Text.Json.Serialization;
using ChatGrains.ApiGateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ChatGrains.ApiGateway.GuestSessions;

/// <summary>The guest-session API's response envelope (spec 000), success and error alike.</summary>
public sealed record Envelope<T>(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("data")] T? Data,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] EnvelopeError? Error,
    [property: JsonPropertyName("meta")] object? Meta,
    [property: JsonPropertyName("trace_id")] string TraceId,
    [property: JsonPropertyName("timestamp")] string Timestamp);

/// <summary><c>code</c> is machine-readable (<c>VALIDATION_FAILED</c>, …); <c>details</c> maps a field to its messages.</summary>
public sealed record EnvelopeError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("details"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string[]>? Details);

public static class Envelopes
{
    public static Envelope<T> Ok<T>(HttpContext http, TimeProvider clock, string message, T data) =>
        new(true, message, data, null, null, Tracing.TraceId(http), Timestamp(clock));

    /// <summary>ISO-8601 UTC to the second, as the spec's example.</summary>
    public static string Timestamp(TimeProvider clock) =>
        clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string CodeFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "VALIDATION_FAILED",
        StatusCodes.Status401Unauthorized => "UNAUTHORIZED",
        StatusCodes.Status403Forbidden => "FORBIDDEN",
        StatusCodes.Status404NotFound => "NOT_FOUND",
        StatusCodes.Status405MethodNotAllowed => "METHOD_NOT_ALLOWED",
        StatusCodes.Status413PayloadTooLarge => "PAYLOAD_TOO_LARGE",
        StatusCodes.Status415UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
        StatusCodes.Status429TooManyRequests => "RATE_LIMIT_EXCEEDED",
        StatusCodes.Status503ServiceUnavailable => "SERVICE_UNAVAILABLE",
        >= 500 => "INTERNAL_ERROR",
        _ => "BAD_REQUEST",
    };
}

/// <summary>Errors as <c>{"success": false, "message", "error": {"code", "details"}, …}</c>.</summary>
public sealed class EnvelopeFormat : ApiErrorFormat
{
    public static readonly EnvelopeFormat Instance = new();

    public override IResult Respond(HttpContext http, int status, string message, IReadOnlyDictionary<string, string[]>? fieldErrors = null) =>
        Error(http, status, message, fieldErrors);

    public static JsonHttpResult<Envelope<object>> Error(HttpContext http, int status, string message, IReadOnlyDictionary<string, string[]>? fieldErrors = null)
    {
        var clock = http.RequestServices.GetRequiredService<TimeProvider>();
        var body = new Envelope<object>(false, message, null, new EnvelopeError(Envelopes.CodeFor(status), fieldErrors), null,
            Tracing.TraceId(http), Envelopes.Timestamp(clock));
        return TypedResults.Json(body, ApiJson.Wire.EnvelopeObject, statusCode: status);
    }
}
