using System.Net;
using System.Security.Cryptography;
using System.Text;
using ChatGrains.ApiGateway.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Dashboard;

/// <summary><c>Dashboard:*</c> configuration.</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    public string? Username { get; set; }

    public string? Password { get; set; }

    public bool BasicConfigured => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);
}

/// <summary>
/// Who may see the dashboard: a Bearer token with role <c>admin</c>, or HTTP Basic with
/// <c>Dashboard:Username</c>/<c>Dashboard:Password</c> when those are configured. With no Basic
/// credential configured, a loopback client without credentials gets in too (an operator on
/// the node's own machine). Wrong credentials → 401; a valid token of another role → 403.
/// </summary>
public sealed class DashboardAccess(IOptions<DashboardOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        return await DecideAsync(http) switch
        {
            Decision.Allowed => await next(context),
            Decision.Forbidden => TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "An admin token is required."),
            _ => Challenge(http),
        };
    }

    private enum Decision { Allowed, Unauthorized, Forbidden }

    private async Task<Decision> DecideAsync(HttpContext http)
    {
        string authorization = http.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var result = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
            if (!result.Succeeded)
            {
                return Decision.Unauthorized;
            }
            return result.Principal.IsInRole(Roles.Admin) ? Decision.Allowed : Decision.Forbidden;
        }
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return options.Value.BasicConfigured && BasicMatches(authorization["Basic ".Length..].Trim()) ? Decision.Allowed : Decision.Unauthorized;
        }
        if (authorization.Length == 0 && !options.Value.BasicConfigured && http.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip))
        {
            return Decision.Allowed;
        }
        return Decision.Unauthorized;
    }

    private bool BasicMatches(string encoded)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = Encoding.UTF8.GetBytes($"{options.Value.Username}:{options.Value.Password}");
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(decoded), expected);
    }

    private Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Challenge(HttpContext http)
    {
        // No "Basic" challenge: a browser would pop its own dialog over the page's login form.
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized,
            title: options.Value.BasicConfigured ? "An admin token or the dashboard's username and password are required." : "An admin token is required.");
    }
}
