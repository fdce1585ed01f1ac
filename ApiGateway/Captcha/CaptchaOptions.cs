namespace ChatGrains.ApiGateway.Captcha;

/// <summary>
/// <c>Captcha:*</c>. Off unless <see cref="Provider"/> is set; then the endpoints named in
/// <see cref="Endpoints"/> require a widget response token, verified with the provider.
/// </summary>
public sealed class CaptchaOptions
{
    public const string Section = "Captcha";

    /// <summary><c>hcaptcha</c> or <c>turnstile</c>; empty: no captcha.</summary>
    public string? Provider { get; set; }

    /// <summary>The provider's secret for this site: sent to the provider only, never logged.</summary>
    public string? SecretKey { get; set; }

    /// <summary>The public key the page's widget is rendered with.</summary>
    public string? SiteKey { get; set; }

    /// <summary>The siteverify URL; the provider's documented one unless set.</summary>
    public Uri? VerifyUrl { get; set; }

    /// <summary>The widget's script, the one external asset the page loads; the provider's unless set.</summary>
    public Uri? ScriptUrl { get; set; }

    /// <summary>Which endpoints require it: <c>livechat-session</c> (the default) and <c>guest-session</c>.</summary>
    public string[]? Endpoints { get; set; }

    /// <summary>How long one call to the verifier may take (one retry after a failed one).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>The endpoints a captcha can guard, by their <c>Captcha:Endpoints</c> name.</summary>
public static class CaptchaEndpoints
{
    public const string LiveChatSession = "livechat-session";
    public const string GuestSession = "guest-session";

    public static readonly IReadOnlyList<string> All = [LiveChatSession, GuestSession];
}

/// <summary>
/// What a provider is: where to verify, the widget's script, the element it renders into, the
/// form field the widget fills, and the origins it loads from and talks to (what the page's
/// policy must allow).
/// </summary>
public sealed record CaptchaProvider(string Name, Uri VerifyUrl, Uri ScriptUrl, string WidgetClass, string ResponseField, string[] Origins)
{
    public static readonly CaptchaProvider HCaptcha = new(
        "hcaptcha", new Uri("https://api.hcaptcha.com/siteverify"), new Uri("https://js.hcaptcha.com/1/api.js"), "h-captcha", "h-captcha-response",
        ["https://hcaptcha.com", "https://*.hcaptcha.com"]);

    public static readonly CaptchaProvider Turnstile = new(
        "turnstile", new Uri("https://challenges.cloudflare.com/turnstile/v0/siteverify"),
        new Uri("https://challenges.cloudflare.com/turnstile/v0/api.js"), "cf-turnstile", "cf-turnstile-response",
        ["https://challenges.cloudflare.com"]);

    public static CaptchaProvider? Named(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "hcaptcha" => HCaptcha,
        "turnstile" => Turnstile,
        _ => null,
    };
}
