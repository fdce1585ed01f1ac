using System.Security.Cryptography;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatGrains.Tests.Chats;

/// <summary>Tokens a node must reject, each wrong in exactly one way.</summary>
public static class Tokens
{
    /// <param name="node">Whose key signs, unless <paramref name="credentials"/> say otherwise.</param>
    /// <param name="role">The role, or none.</param>
    /// <param name="roles">Several roles, in place of <paramref name="role"/>.</param>
    public static string Create(
        TestNode node,
        string? role = "admin",
        string issuer = "chatgrains",
        string audience = "chatgrains",
        DateTime? expires = null,
        SigningCredentials? credentials = null,
        Guid? subject = null,
        string type = TokenTypes.Staff,
        IDictionary<string, object>? header = null,
        string[]? roles = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = (subject ?? Guid.NewGuid()).ToString() };
        if (roles is not null)
        {
            claims["role"] = roles;
        }
        else if (role is not null)
        {
            claims["role"] = role;
        }
        var expiry = expires ?? DateTime.UtcNow.AddMinutes(10);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = expiry.AddMinutes(-20),
            NotBefore = expiry.AddMinutes(-20),
            Expires = expiry,
            SigningCredentials = credentials ?? node.Services.GetRequiredService<SigningKeys>().SigningCredentials,
            TokenType = type,
            AdditionalHeaderClaims = header,
        });
    }

    /// <summary>Signed by the node's key with a header of only <c>alg</c> and <c>kid</c> (the library always adds a typ).</summary>
    public static string WithoutTyp(TestNode node, string role)
    {
        var key = node.Services.GetRequiredService<SigningKeys>().SigningKey;
        var header = Base64UrlEncoder.Encode($$"""{"alg":"RS256","kid":"{{key.KeyId}}"}""");
        var now = DateTimeOffset.UtcNow;
        var payload = Base64UrlEncoder.Encode(
            $$"""{"sub":"{{Guid.NewGuid()}}","role":"{{role}}","iss":"chatgrains","aud":"chatgrains","iat":{{now.ToUnixTimeSeconds()}},"exp":{{now.AddMinutes(5).ToUnixTimeSeconds()}}}""");
        using var rsa = RSA.Create(key.Parameters);
        var signature = rsa.SignData(System.Text.Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{payload}.{Base64UrlEncoder.Encode(signature)}";
    }

    public static IEnumerable<(string Name, Func<TestNode, string> Make)> Rejected() =>
    [
        ("malformed", _ => "not-a-jwt"),
        ("expired", node => Create(node, expires: DateTime.UtcNow.AddMinutes(-5))),
        ("wrong issuer", node => Create(node, issuer: "someone-else")),
        ("wrong audience", node => Create(node, audience: "another-api")),
        ("untrusted key", node => Create(node, credentials: new SigningCredentials(new RsaSecurityKey(RSA.Create(2048)) { KeyId = "x" }, SecurityAlgorithms.RsaSha256))),
        ("HS256", node => Create(node, credentials: new SigningCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), SecurityAlgorithms.HmacSha256))),
        ("alg none", _ => new JsonWebTokenHandler().CreateToken(
            $$"""{"sub":"{{Guid.NewGuid()}}","role":"admin","iss":"chatgrains","aud":"chatgrains","exp":{{DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds()}}}""")),
        // Signed by the node's own key, so only the header's checks can refuse them.
        ("visitor role with the staff typ", node => Create(node, role: Roles.Visitor)),
        ("visitor role with no typ", node => WithoutTyp(node, Roles.Visitor)),
        ("admin role with the visitor typ", node => Create(node, role: Roles.Admin, type: TokenTypes.Visitor)),
        ("commercial role with the visitor typ", node => Create(node, role: Roles.Commercial, type: TokenTypes.Visitor)),
        ("visitor and admin roles with the visitor typ", node => Create(node, roles: [Roles.Visitor, Roles.Admin], type: TokenTypes.Visitor)),
        ("visitor and admin roles with the staff typ", node => Create(node, roles: [Roles.Visitor, Roles.Admin])),
        ("an unknown typ", node => Create(node, type: "at+jwt")),
        ("a crit header", node => Create(node, header: new Dictionary<string, object>
        {
            ["crit"] = new[] { "urn:example:must-understand" },
            ["urn:example:must-understand"] = true,
        })),
        ("RS256 signature with the header switched to PS256", node =>
        {
            var parts = Create(node).Split('.');
            var header = Base64UrlEncoder.Encode(Base64UrlEncoder.Decode(parts[0]).Replace("RS256", "PS256", StringComparison.Ordinal));
            return $"{header}.{parts[1]}.{parts[2]}";
        }),
    ];
}
