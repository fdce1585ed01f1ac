using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatGrains.ApiGateway.Auth;

/// <summary>
/// Explicit typing (RFC 8725 §3.11): a visitor's token says so in its <c>typ</c> header, so no
/// service trusting this issuer can take an anonymous visitor's token for a staff token.
/// Staff (commercial, admin) tokens keep <c>JWT</c>: they are not RFC 9068 access tokens (no
/// <c>client_id</c>, no authorisation server), and tokens already issued stay valid.
/// </summary>
public static class TokenTypes
{
    public const string Staff = "JWT";
    public const string Visitor = "visitor+jwt";

    private const string MediaTypePrefix = "application/";

    /// <summary>The <c>typ</c> a token for <paramref name="role"/> carries.</summary>
    public static string For(string role) => role == Roles.Visitor ? Visitor : Staff;

    /// <summary>
    /// A <see cref="TokenValidationParameters.TypeValidator"/>: the header checks the library leaves to
    /// the application. A failure fails authentication (401), whatever the endpoint: a token whose
    /// header and roles disagree is not a credential at all, rather than a caller without permission.
    /// </summary>
    public static string ValidateHeader(string? type, SecurityToken token, TokenValidationParameters parameters)
    {
        var jwt = (JsonWebToken)token;
        // RFC 7515 §4.1.11: extensions listed in crit must be understood, and this service knows none.
        if (jwt.TryGetHeaderValue<object>("crit", out _))
        {
            throw new SecurityTokenInvalidTypeException("The token's header has a crit parameter; no extension is supported.");
        }

        var roles = jwt.Claims.Where(c => c.Type == "role").Select(c => c.Value).ToList();
        var isVisitorToken = Normalise(type) switch
        {
            Visitor => true,
            Staff => false,
            _ => throw new SecurityTokenInvalidTypeException($"The token's typ must be {Staff} or {Visitor}.") { InvalidType = type },
        };
        if (isVisitorToken && (roles.Count == 0 || roles.Any(role => role != Roles.Visitor)))
        {
            throw new SecurityTokenInvalidTypeException($"A {Visitor} token carries the visitor role only.") { InvalidType = type };
        }
        if (!isVisitorToken && roles.Contains(Roles.Visitor))
        {
            throw new SecurityTokenInvalidTypeException($"A visitor token must have typ {Visitor}.") { InvalidType = type };
        }
        return type!;
    }

    /// <summary><c>typ</c> is a media type: case-insensitive, and <c>application/</c> may be left out (RFC 7515 §4.1.9).</summary>
    private static string? Normalise(string? type)
    {
        if (type is null)
        {
            return null;
        }
        var shortForm = type.StartsWith(MediaTypePrefix, StringComparison.OrdinalIgnoreCase) ? type[MediaTypePrefix.Length..] : type;
        return shortForm.Equals(Visitor, StringComparison.OrdinalIgnoreCase) ? Visitor
            : shortForm.Equals(Staff, StringComparison.OrdinalIgnoreCase) ? Staff
            : shortForm;
    }
}
