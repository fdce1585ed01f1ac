using System.Text.Json;
using ChatGrains.Grains;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.WebUtilities;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// Each API keeps the error body its spec gives. A route group declares its format as endpoint
/// metadata, and everything that fails outside a handler (bad JSON, wrong content type, body
/// too large, database down, a bug) is written in that format.
/// </summary>
public abstract class ApiErrorFormat
{
    public abstract IResult Respond(HttpContext http, int status, string message, IReadOnlyDictionary<string, string[]>? fieldErrors = null);
}

/// <summary>RFC 9457 problem details; field errors under <c>errors</c>, as ASP.NET's validation problems.</summary>
public sealed class ProblemDetailsFormat : ApiErrorFormat
{
    public static readonly ProblemDetailsFormat Instance = new();

    public override IResult Respond(HttpContext http, int status, string message, IReadOnlyDictionary<string, string[]>? fieldErrors = null) =>
        fieldErrors is { Count: > 0 } && status == StatusCodes.Status400BadRequest
            ? TypedResults.ValidationProblem(fieldErrors, title: message)
            : TypedResults.Problem(statusCode: status, title: message);
}

public static class ApiErrors
{
    public const int RetryAfterSeconds = 5;

    public static IServiceCollection AddApiErrors(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        // Client mistakes in binding come to the handler as exceptions, so each API can answer
        // them in its own format instead of the framework's empty 400.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }

    /// <summary>
    /// Declares the API's error format, and moves the Content-Type check from routing to binding:
    /// routing would answer a wrong Content-Type with its own 415 endpoint, before authentication
    /// and outside this format; at binding it reaches <see cref="ApiExceptionHandler"/>.
    /// </summary>
    public static TBuilder WithErrorFormat<TBuilder>(this TBuilder builder, ApiErrorFormat format)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(format);
        builder.Finally(endpoint =>
        {
            foreach (var accepts in endpoint.Metadata.OfType<IAcceptsMetadata>().ToList())
            {
                endpoint.Metadata.Remove(accepts);
            }
        });
        return builder;
    }

    /// <summary>
    /// Bodiless error statuses (401 and 403 from authentication, 404, 405, 413 from the server)
    /// get a body in the format of the API they were meant for.
    /// </summary>
    public static IApplicationBuilder UseApiStatusCodePages(this IApplicationBuilder app) =>
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            return FormatOf(http).Respond(http, status, ReasonPhrases.GetReasonPhrase(status)).ExecuteAsync(http);
        });

    /// <summary>The format of the endpoint the request was for; the exception handler has cleared it from the context.</summary>
    internal static ApiErrorFormat FormatOf(HttpContext http) =>
        (http.GetEndpoint() ?? http.Features.Get<IExceptionHandlerFeature>()?.Endpoint)?.Metadata.GetMetadata<ApiErrorFormat>()
        ?? ProblemDetailsFormat.Instance;

    /// <summary>
    /// "$.visitorInfo.name" → "visitorInfo.name" for a value of the wrong type; "body" when the
    /// JSON itself is broken (truncated, not JSON), whose path only says where reading stopped.
    /// </summary>
    public static string FieldOf(JsonException exception) =>
        IsSyntaxError(exception) ? "body"
        : exception.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..]
        : exception.Path is { Length: > 1 } indexed && indexed.StartsWith("$[", StringComparison.Ordinal) ? indexed[1..]
        : "body";

    // System.Text.Json wraps the reader's own (internal) exception type for syntax errors.
    private static bool IsSyntaxError(JsonException exception) =>
        exception.InnerException?.GetType().Name == "JsonReaderException";
}

internal sealed partial class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        var format = ApiErrors.FormatOf(http);
        IResult result;
        switch (exception)
        {
            case BadHttpRequestException { InnerException: JsonException json }:
                result = format.Respond(http, StatusCodes.Status400BadRequest, "The request body is not valid JSON for this endpoint.",
                    new Dictionary<string, string[]> { [ApiErrors.FieldOf(json)] = ["Malformed JSON or a value of the wrong type."] });
                break;
            case BadHttpRequestException bad:
                result = format.Respond(http, bad.StatusCode, bad.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
                    StatusCodes.Status415UnsupportedMediaType => "The request body must be JSON (Content-Type: application/json).",
                    _ => "The request is malformed.",
                });
                break;
            case Captcha.CaptchaUnavailableException:
                // Fail closed: no session without a verified captcha; the client retries.
                http.Response.Headers.RetryAfter = ApiErrors.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                result = format.Respond(http, StatusCodes.Status503ServiceUnavailable, "The captcha cannot be verified now; retry later.");
                break;
            case var unavailable when Failures.ShouldRetryLater(unavailable):
                LogUnavailable(logger, http.Request.Method, EndpointName(http), unavailable.GetType().Name);
                http.Response.Headers.RetryAfter = ApiErrors.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                result = format.Respond(http, StatusCodes.Status503ServiceUnavailable, "The service is temporarily unavailable; retry later.");
                break;
            case OperationCanceledException when http.RequestAborted.IsCancellationRequested:
                // The client went away; there is nobody to answer.
                return true;
            default:
                LogUnhandled(logger, exception, http.Request.Method, EndpointName(http));
                result = format.Respond(http, StatusCodes.Status500InternalServerError, "An unexpected error occurred.");
                break;
        }
        await result.ExecuteAsync(http);
        return true;
    }

    private static string? EndpointName(HttpContext http) => http.Features.Get<IExceptionHandlerFeature>()?.Endpoint?.DisplayName;

    [LoggerMessage(LogLevel.Warning, "Cluster or database unavailable for {Method} {Endpoint}: answered 503 ({Failure})")]
    private static partial void LogUnavailable(ILogger logger, string method, string? endpoint, string failure);

    [LoggerMessage(LogLevel.Error, "Unhandled exception for {Method} {Endpoint}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string? endpoint);
}
