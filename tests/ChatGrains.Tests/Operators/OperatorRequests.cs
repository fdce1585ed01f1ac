using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Operators;

/// <summary>
/// Raw requests to the operators' endpoints: no redirects followed, no cookie jar (cookies are
/// sent by hand, so a <c>Secure</c> cookie set over a proxied HTTPS request still rides along).
/// </summary>
public sealed partial class OperatorClient(TestNode node) : IDisposable
{
    public const string ForeignHost = "rebind.attacker.example";

    public const string SessionCookie = "chatgrains-dashboard";

    /// <summary>What the dashboard answers a request with no credentials when some are configured.</summary>
    public const string NoCredentials = "An admin token or the dashboard's username and password are required.";

    private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
    {
        BaseAddress = node.BaseAddress,
        Timeout = TimeSpan.FromSeconds(30),
    };

    public TestNode Node => node;

    public static AuthenticationHeaderValue Basic(string username, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));

    public AuthenticationHeaderValue Bearer(string role) => new("Bearer", node.Token(role, Guid.NewGuid()));

    /// <summary>A GET; <paramref name="headers"/> may set <c>Host</c>, <c>Accept</c>, <c>Cookie</c>, forwarding headers.</summary>
    public Task<HttpResponseMessage> GetAsync(string path, AuthenticationHeaderValue? authorization = null, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = authorization;
        Apply(request, headers);
        return _http.SendAsync(request);
    }

    public Task<HttpResponseMessage> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> fields, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(path, UriKind.Relative)) { Content = new FormUrlEncodedContent(fields) };
        Apply(request, headers);
        return _http.SendAsync(request);
    }

    /// <summary>GETs the sign-in page and keeps what a browser would: the antiforgery cookie and the form's hidden field.</summary>
    public async Task<SignInForm> OpenSignInAsync(params (string Name, string Value)[] headers)
    {
        using var page = await GetAsync("/dashboard/sign-in", null, [("Accept", "text/html"), .. headers]);
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, $"sign-in page: {(int)page.StatusCode} {html}");
        var field = AntiforgeryField().Match(html);
        Assert.True(field.Success, $"no antiforgery field in {html}");
        return new SignInForm(field.Groups["value"].Value, Cookies(page).Select(c => $"{c.Name}={c.Value}").ToList());
    }

    /// <summary>Signs in with <paramref name="token"/> as a browser does; returns its form (to sign out with) and the session cookie, as a Cookie header.</summary>
    public async Task<(SignInForm Form, string Session)> SignInAsync(string token)
    {
        var form = await OpenSignInAsync();
        using var signIn = await PostFormAsync("/dashboard/sign-in", form.Fields(token), ("Cookie", form.CookieHeader));
        Assert.Equal(HttpStatusCode.SeeOther, signIn.StatusCode);
        return (form, $"{SessionCookie}={Cookies(signIn).Single(c => c.Name == SessionCookie).Value}");
    }

    /// <summary>Signs out through the form of <see cref="SignInAsync"/>; the response clears the cookie.</summary>
    public async Task SignOutAsync(SignInForm form, string session)
    {
        using var signOut = await PostFormAsync("/dashboard/sign-out", form.Fields(null), ("Cookie", $"{form.CookieHeader}; {session}"));
        Assert.Equal(HttpStatusCode.SeeOther, signOut.StatusCode);
        Assert.Equal("", Cookies(signOut).Single(c => c.Name == SessionCookie).Value);
    }

    /// <summary>The response's Set-Cookie headers, parsed: name, value and the lower-cased attributes.</summary>
    public static IReadOnlyList<SetCookie> Cookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values)
            ? [.. values.Select(SetCookie.Parse)]
            : [];

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes; the last state is in the failure.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, Func<T, string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (condition(value))
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Not within {timeout.TotalSeconds:0} s: {describe(value)}");
            }
            await Task.Delay(250);
        }
    }

    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string title)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!.AsObject();
        Assert.Equal((int)status, (int)problem["status"]!);
        Assert.Equal(title, (string?)problem["title"]);
    }

    private static void Apply(HttpRequestMessage request, (string Name, string Value)[] headers)
    {
        foreach (var (name, value) in headers)
        {
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.Host = value;
            }
            else
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("""<input type="hidden" name="__RequestVerificationToken" value="(?<value>[^"]+)">""")]
    private static partial Regex AntiforgeryField();
}

/// <summary>What a browser holds after opening the sign-in page.</summary>
public sealed record SignInForm(string RequestToken, IReadOnlyList<string> Cookies)
{
    public string CookieHeader => string.Join("; ", Cookies);

    public IEnumerable<KeyValuePair<string, string>> Fields(string? token) =>
        token is null
            ? [new("__RequestVerificationToken", RequestToken)]
            : [new("__RequestVerificationToken", RequestToken), new("token", token)];
}

public sealed record SetCookie(string Name, string Value, IReadOnlySet<string> Attributes, string Raw)
{
    public static SetCookie Parse(string header)
    {
        var parts = header.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var pair = parts[0].Split('=', 2);
        return new SetCookie(pair[0], pair.Length > 1 ? pair[1] : "",
            parts.Skip(1).Select(p => p.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal), header);
    }

    public bool Has(string attribute) => Attributes.Contains(attribute);
}
