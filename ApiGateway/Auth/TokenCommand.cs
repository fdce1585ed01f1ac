using System.Globalization;

namespace ChatGrains.ApiGateway.Auth;

/// <summary>
/// <c>ApiGateway token --role admin|commercial|visitor --sub &lt;uuid&gt; [--lifetime hh:mm:ss]</c>:
/// prints a token signed with the node's configured key, for operators and tests.
/// </summary>
public static class TokenCommand
{
    private const string Usage = "usage: ApiGateway token --role admin|commercial|visitor --sub <uuid> [--lifetime hh:mm:ss]";

    public static bool IsInvoked(string[] args) => args is ["token", ..];

    public static int Run(IServiceProvider services, string[] args, TextWriter output, TextWriter error)
    {
        string? role = null, subject = null;
        var lifetime = TimeSpan.FromHours(1);
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

        if (role is null || !Roles.All.Contains(role, StringComparer.Ordinal))
        {
            error.WriteLine($"--role must be one of: {string.Join(", ", Roles.All)}.");
            error.WriteLine(Usage);
            return 2;
        }
        if (!Guid.TryParseExact(subject, "D", out var sub))
        {
            error.WriteLine("--sub must be a UUID.");
            error.WriteLine(Usage);
            return 2;
        }

        output.WriteLine(services.GetRequiredService<TokenIssuer>().Issue(sub.ToString(), role, lifetime));
        return 0;
    }
}
