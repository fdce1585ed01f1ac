using System.Collections.Concurrent;
using ChatGrains.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatGrains.Tests.Captcha;

/// <summary>
/// A captcha provider's siteverify endpoint on loopback, answering as hCaptcha and Turnstile do,
/// by the token it is given: <c>pass-…</c> succeeds once (then <c>timeout-or-duplicate</c>),
/// <c>invalid</c> is <c>invalid-input-response</c>, <c>slow</c> answers after 30 s, <c>boom</c>
/// is a 500, and <c>misconfigured</c> is <c>invalid-input-secret</c>. It also serves a stub widget
/// script that fills the provider's response field, for the page.
/// </summary>
public sealed class FakeSiteVerify : IAsyncDisposable
{
    public const string Secret = "test-secret-0x5ecre7";
    public const string SiteKey = "test-site-key";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, bool> _used = new(StringComparer.Ordinal);

    private FakeSiteVerify(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public Uri VerifyUrl => new(Address, "/siteverify");

    public Uri ScriptUrl => new(Address, "/widget.js");

    /// <summary>Every verification asked, as the form fields it carried.</summary>
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> Calls { get; } = new();

    /// <summary>The node's configuration for this verifier.</summary>
    public Dictionary<string, string?> Settings(string provider = "hcaptcha", params string[] endpoints)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Captcha:Provider"] = provider,
            ["Captcha:SecretKey"] = Secret,
            ["Captcha:SiteKey"] = SiteKey,
            ["Captcha:VerifyUrl"] = VerifyUrl.ToString(),
            ["Captcha:ScriptUrl"] = ScriptUrl.ToString(),
            // Long enough for a cold node's first call on a busy machine: an attempt that times out
            // is retried with the same token, which this fake (like the real services) then
            // refuses as a duplicate. The "slow" token still costs two attempts, 10 s at most.
            ["Captcha:Timeout"] = "00:00:05",
        };
        for (var i = 0; i < endpoints.Length; i++)
        {
            settings[$"Captcha:Endpoints:{i}"] = endpoints[i];
        }
        return settings;
    }

    public static async Task<FakeSiteVerify> StartAsync()
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeSiteVerify(app, new Uri($"http://127.0.0.1:{port}"));
        app.MapPost("/siteverify", fake.VerifyAsync);
        app.MapGet("/widget.js", () => Results.Text(StubWidget, "text/javascript"));
        await app.StartAsync();
        return fake;
    }

    private async Task<IResult> VerifyAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        var fields = form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
        Calls.Enqueue(fields);
        var token = fields.GetValueOrDefault("response", "");
        if (fields.GetValueOrDefault("secret") != Secret || token == "misconfigured")
        {
            return Answer(false, "invalid-input-secret");
        }
        switch (token)
        {
            case "slow":
                await Task.Delay(TimeSpan.FromSeconds(30), request.HttpContext.RequestAborted);
                return Answer(true);
            case "boom":
                return Results.StatusCode(StatusCodes.Status500InternalServerError);
            case var good when good.StartsWith("pass-", StringComparison.Ordinal):
                return _used.TryAdd(good, true) ? Answer(true) : Answer(false, "timeout-or-duplicate");
            default:
                return Answer(false, "invalid-input-response");
        }
    }

    private static IResult Answer(bool success, params string[] errorCodes) =>
        Results.Json(new Dictionary<string, object> { ["success"] = success, ["error-codes"] = errorCodes });

    /// <summary>Stands in for the provider's widget: fills each widget's response field with a fresh passing token.</summary>
    private const string StubWidget = """
        (function () {
          for (const widget of document.querySelectorAll(".h-captcha, .cf-turnstile")) {
            const field = document.createElement("input");
            field.type = "hidden";
            field.name = widget.classList.contains("h-captcha") ? "h-captcha-response" : "cf-turnstile-response";
            field.value = "pass-" + crypto.randomUUID();
            widget.appendChild(field);
            widget.dataset.stub = "rendered";
          }
        })();
        """;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
