using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>What a page's test asserts it never had: uncaught errors and console errors (a CSP violation, a failed request).</summary>
public static class PageErrors
{
    public static List<string> Of(IPage page)
    {
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add($"page error: {error}");
        page.Console += (_, message) =>
        {
            // The node serves no favicon; Chromium asks for one anyway.
            if (message.Type == "error" && !message.Location.Contains("/favicon.ico", StringComparison.Ordinal))
            {
                errors.Add($"console: {message.Text} ({message.Location})");
            }
        };
        return errors;
    }
}
