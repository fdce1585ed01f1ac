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
    public static string Create(
        TestNode node,
        string? role = "admin",
        string issuer = "chatgrains",
        string audience = "chatgrains",
        DateTime? expires = null,
        SigningCredentials? credentials = null,
        Guid? subject = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = (subject ?? Guid.NewGuid()).ToString() };
        if (role is not null)
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
        });
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
        ("RS256 signature with the header switched to PS256", node =>
        {
            var parts = Create(node).Split('.');
            var header = Base64UrlEncoder.Encode(Base64UrlEncoder.Decode(parts[0]).Replace("RS256", "PS256", StringComparison.Ordinal));
            return $"{header}.{parts[1]}.{parts[2]}";
        }),
    ];
}
