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
            if (message.Type == "error")
            {
                errors.Add($"console: {message.Text} ({message.Location})");
            }
        };
        return errors;
    }
}
