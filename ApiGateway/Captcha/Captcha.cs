using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Captcha;

/// <summary>
/// What an endpoint asks: does this request need a captcha, and did it pass? Runs after the
/// endpoint's own validation and after rate limiting, so a flood costs no verifier calls beyond
/// the limit.
/// </summary>
public sealed class CaptchaCheck(IOptions<CaptchaOptions> options, IServiceProvider services)
{
    /// <summary>The configured provider, read once (options are validated at start), or null without a captcha.</summary>
    public CaptchaProvider? Provider { get; } = CaptchaProvider.Named(options.Value.Provider);

    public bool IsEnabled => Provider is not null;

    public bool IsRequiredFor(string endpoint) =>
        IsEnabled && (options.Value.Endpoints is { Length: > 0 } endpoints ? endpoints : [CaptchaEndpoints.LiveChatSession])
            .Contains(endpoint, StringComparer.OrdinalIgnoreCase);

    /// <summary>What the live-chat page renders, or null without a captcha.</summary>
    public LiveChat.CaptchaWidget? Widget() => Provider is { } provider
        ? new LiveChat.CaptchaWidget(provider.Name, options.Value.SiteKey!, options.Value.ScriptUrl ?? provider.ScriptUrl, provider.WidgetClass, provider.ResponseField)
        : null;

    /// <summary>
    /// The live-chat page's policy: the pages' strict one, plus — with a captcha — the widget's
    /// origins for its script, its frame, its styles and its calls home (what hCaptcha and
    /// Turnstile document), and nothing else external.
    /// </summary>
    public string PagePolicy()
    {
        if (Provider is not { } provider)
        {
            return Http.StaticPages.ContentSecurityPolicy;
        }
        var script = options.Value.ScriptUrl ?? provider.ScriptUrl;
        var origins = string.Join(' ', new[] { script.GetLeftPart(UriPartial.Authority) }.Concat(provider.Origins).Distinct(StringComparer.Ordinal));
        return $"default-src 'none'; script-src 'self' {origins}; style-src 'self' {origins}; connect-src 'self' {origins}; " +
               $"frame-src {origins}; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    }

    /// <summary>True when the token passed; false when the provider rejected it; throws <see cref="CaptchaUnavailableException"/> when it could not say.</summary>
    public async Task<bool> PassesAsync(string token, HttpContext http) =>
        await services.GetRequiredService<CaptchaVerifier>().VerifyAsync(token, http.Connection.RemoteIpAddress, http.RequestAborted) switch
        {
            CaptchaVerdict.Passed => true,
            CaptchaVerdict.Rejected => false,
            _ => throw new CaptchaUnavailableException(),
        };
}

public static class CaptchaExtensions
{
    public static IServiceCollection AddCaptcha(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CaptchaOptions>()
            .BindConfiguration(CaptchaOptions.Section)
            .Validate(o => string.IsNullOrWhiteSpace(o.Provider) || CaptchaProvider.Named(o.Provider) is not null,
                "Captcha:Provider must be hcaptcha or turnstile (or empty for no captcha).")
            .Validate(o => CaptchaProvider.Named(o.Provider) is null || (!string.IsNullOrWhiteSpace(o.SecretKey) && !string.IsNullOrWhiteSpace(o.SiteKey)),
                "Captcha:SecretKey and Captcha:SiteKey are required when Captcha:Provider is set.")
            .Validate(o => (o.Endpoints ?? []).All(e => CaptchaEndpoints.All.Contains(e, StringComparer.OrdinalIgnoreCase)),
                "Captcha:Endpoints may name livechat-session and guest-session.")
            .Validate(o => o.Timeout > TimeSpan.Zero, "Captcha:Timeout must be positive.")
            .ValidateOnStart();
        services.AddSingleton<CaptchaCheck>();

        var timeout = configuration.GetValue($"{CaptchaOptions.Section}:{nameof(CaptchaOptions.Timeout)}", new CaptchaOptions().Timeout);
        services.AddHttpClient<CaptchaVerifier>()
            .AddStandardResilienceHandler(resilience =>
            {
                // One retry after a failed attempt (connection refused, 5xx, a timed-out attempt):
                // a token is consumed only by an answered verification, so retrying is safe in all
                // but the rare answer lost after the provider counted it (then the retry says duplicate).
                resilience.Retry.MaxRetryAttempts = 1;
                resilience.Retry.Delay = TimeSpan.FromMilliseconds(100);
                resilience.AttemptTimeout.Timeout = timeout;
                resilience.TotalRequestTimeout.Timeout = timeout * 2 + TimeSpan.FromSeconds(1);
                resilience.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(Math.Max(30, timeout.TotalSeconds * 2 + 1));
            });
        return services;
    }
}
