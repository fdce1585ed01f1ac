using System.Globalization;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Auth;

/// <summary>
/// <c>ApiGateway token --role admin|commercial|visitor|integration --sub &lt;uuid&gt; [--lifetime [d.]hh:mm:ss]</c>:
/// prints a token signed with the node's configured key, for operators and tests. The lifetime is an
/// hour unless asked, and never more than <c>Jwt:MaxTokenLifetime</c> (24 hours unless configured).
/// </summary>
public static class TokenCommand
{
    private const string Usage = "usage: ApiGateway token --role admin|commercial|visitor|integration --sub <uuid> [--lifetime [d.]hh:mm:ss]";

    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);

    public static bool IsInvoked(string[] args) => args is ["token", ..];

    public static int Run(IServiceProvider services, string[] args, TextWriter output, TextWriter error)
    {
        string? role = null, subject = null;
        var maximum = services.GetRequiredService<IOptions<JwtOptions>>().Value.MaxTokenLifetime;
        TimeSpan? lifetime = null;
        for (var i = 1; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--role": role = value; i++; break;
                case "--sub": subject = value; i++; break;
                case "--lifetime" when TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var parsed) && parsed > TimeSpan.Zero:
                    lifetime = parsed; i++; break;
                default:
                    // Other arguments are configuration (--Jwt:SigningKeyPath=...), read by the host.
                    if (args[i] is "--lifetime")
                    {
                        error.WriteLine($"--lifetime: '{value}' is not a positive hh:mm:ss duration.");
                        return 2;
                    }
                    break;
            }
        }

        if (role is null || !Roles.Issuable.Contains(role, StringComparer.Ordinal))
        {
            error.WriteLine($"--role must be one of: {string.Join(", ", Roles.Issuable)}.");
            error.WriteLine(Usage);
            return 2;
        }
        if (!Guid.TryParseExact(subject, "D", out var sub))
        {
            error.WriteLine("--sub must be a UUID.");
            error.WriteLine(Usage);
            return 2;
        }

        if (lifetime > maximum)
        {
            error.WriteLine($"--lifetime: {lifetime.Value.ToString("c", CultureInfo.InvariantCulture)} is longer than Jwt:MaxTokenLifetime ({maximum.ToString("c", CultureInfo.InvariantCulture)}); ask for less, or raise the setting.");
            return 2;
        }

        // An hour unless asked, but never past the configured maximum.
        var issued = services.GetRequiredService<TokenIssuer>().Issue(sub.ToString(), role, lifetime ?? Min(DefaultLifetime, maximum));
        output.WriteLine(issued);
        return 0;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
