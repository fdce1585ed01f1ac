using Microsoft.Playwright;

namespace ChatGrains.Tests.Browser;

/// <summary>
/// The Content-Security-Policy violations a page reports (its <c>securitypolicyviolation</c>
/// events), recorded from before the page's first script runs: a policy that breaks a page shows
/// up here even where the page hides the failure.
/// </summary>
public static class CspViolations
{
    public static Task RecordAsync(IBrowserContext context) => context.AddInitScriptAsync("""
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', e =>
          window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`));
        """);

    public static async Task<string[]> OfAsync(IPage page) => await page.EvaluateAsync<string[]>("window.__cspViolations");
}
