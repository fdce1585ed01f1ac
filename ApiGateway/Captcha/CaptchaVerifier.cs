using System.Net;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Captcha;

/// <summary>The provider's answer.</summary>
public enum CaptchaVerdict
{
    Passed,

    /// <summary>The token is wrong, expired or used before: the client's to fix.</summary>
    Rejected,

    /// <summary>The provider could not say (unreachable, slow, 5xx, misconfigured): fail closed, retry later.</summary>
    Unavailable,
}

/// <summary>
/// Verifies a widget's response token with the provider's siteverify endpoint, server-side, with
/// the client's IP as <c>remoteip</c>. Every token is asked about (a success is never cached: a
/// token is good once, and the provider says when it is used again).
/// </summary>
public sealed partial class CaptchaVerifier(HttpClient http, IOptions<CaptchaOptions> options, ILogger<CaptchaVerifier> logger)
{
    /// <summary>Longer than any widget token; a longer one is refused without asking the provider.</summary>
    public const int MaxTokenLength = 8192;

    // The provider's codes that say this node is misconfigured, not that the visitor failed.
    private static readonly HashSet<string> ConfigurationErrors = new(StringComparer.Ordinal)
    {
        "missing-input-secret", "invalid-input-secret", "sitekey-secret-mismatch", "invalid-sitekey", "not-using-dummy-passcode",
    };

    public CaptchaProvider Provider { get; } = CaptchaProvider.Named(options.Value.Provider)
        ?? throw new InvalidOperationException("Captcha:Provider is not set.");

    public async Task<CaptchaVerdict> VerifyAsync(string token, IPAddress? client, CancellationToken aborted)
    {
        // Not a widget's token (and one the form encoder could not even send): no verifier call.
        if (token.Length > MaxTokenLength || Http.FieldErrors.HasUnpairedSurrogates(token) || Http.FieldErrors.HasControlCharacters(token))
        {
            return CaptchaVerdict.Rejected;
        }
        var form = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["secret"] = options.Value.SecretKey!,
            ["response"] = token,
        };
        if (client is not null)
        {
            form["remoteip"] = (client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client).ToString();
        }
        if (options.Value.SiteKey is { Length: > 0 } siteKey)
        {
            // hCaptcha checks that the token was made for this site key; Turnstile ignores it.
            form["sitekey"] = siteKey;
        }

        SiteVerifyResponse? answer;
        try
        {
            using var content = new FormUrlEncodedContent(form);
            using var response = await http.PostAsync(options.Value.VerifyUrl ?? Provider.VerifyUrl, content, aborted);
            if (!response.IsSuccessStatusCode)
            {
                LogVerifierFailed(logger, $"HTTP {(int)response.StatusCode}");
                return CaptchaVerdict.Unavailable;
            }
            answer = await response.Content.ReadFromJsonAsync(CaptchaJson.Default.SiteVerifyResponse, aborted);
        }
        catch (Exception exception) when (exception is HttpRequestException or System.Text.Json.JsonException or TimeoutException
                                              or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException
                                          || (exception is OperationCanceledException && !aborted.IsCancellationRequested))
        {
            LogVerifierFailed(logger, exception.GetType().Name);
            return CaptchaVerdict.Unavailable;
        }

        if (answer is null)
        {
            LogVerifierFailed(logger, "an empty answer");
            return CaptchaVerdict.Unavailable;
        }
        if (answer.Success)
        {
            return CaptchaVerdict.Passed;
        }
        var codes = answer.ErrorCodes ?? [];
        if (codes.Any(ConfigurationErrors.Contains))
        {
            LogMisconfigured(logger, string.Join(',', codes));
            return CaptchaVerdict.Unavailable;
        }
        LogRejected(logger, string.Join(',', codes));
        return CaptchaVerdict.Rejected;
    }

    [LoggerMessage(LogLevel.Warning, "The captcha verifier did not answer ({Failure}); the request was refused with 503")]
    private static partial void LogVerifierFailed(ILogger logger, string failure);

    [LoggerMessage(LogLevel.Error, "The captcha provider says this node's configuration is wrong ({ErrorCodes}): check Captcha:SecretKey and Captcha:SiteKey")]
    private static partial void LogMisconfigured(ILogger logger, string errorCodes);

    [LoggerMessage(LogLevel.Information, "A captcha token was rejected ({ErrorCodes})")]
    private static partial void LogRejected(ILogger logger, string errorCodes);
}

/// <summary>siteverify's answer, the same for hCaptcha and Turnstile.</summary>
public sealed record SiteVerifyResponse(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("error-codes")] string[]? ErrorCodes);

[JsonSerializable(typeof(SiteVerifyResponse))]
internal sealed partial class CaptchaJson : JsonSerializerContext;

/// <summary>The verifier could not answer: the request gets 503 with Retry-After in its API's format.</summary>
public sealed class CaptchaUnavailableException : Exception
{
    public CaptchaUnavailableException() : base("The captcha verifier is unavailable.") { }

    public CaptchaUnavailableException(string message) : base(message) { }

    public CaptchaUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}
