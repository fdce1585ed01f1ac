namespace ChatGrains.ApiGateway.LiveChat;

/// <summary><c>LiveChat:*</c> configuration.</summary>
public sealed class LiveChatOptions
{
    public const string Section = "LiveChat";

    /// <summary>
    /// The commercials (UUIDs) the <c>/livechat</c> page offers each new chat to, as its
    /// <c>availableCommercialIds</c>. Empty: the page starts sessions but cannot open a chat.
    /// </summary>
    public string[] CommercialIds { get; set; } = [];

    /// <summary>The ids, lower case, as the page sends them.</summary>
    public IReadOnlyList<Guid> Commercials() => [.. CommercialIds.Select(id => Guid.ParseExact(id, "D"))];
}

/// <summary><c>GET /livechat/config</c>: what the page needs to open a chat, and the captcha widget to render (null: none).</summary>
public sealed record LiveChatPageConfig(IReadOnlyList<Guid> CommercialIds, CaptchaWidget? Captcha = null);

/// <summary>How the page renders the provider's widget and where it finds the widget's response token.</summary>
public sealed record CaptchaWidget(string Provider, string SiteKey, Uri ScriptUrl, string WidgetClass, string ResponseField);
