using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatGrains.ApiGateway.Auth;

/// <summary>
/// Signs this service's JWTs: RS256, with <c>kid</c>, issuer, audience, lifetime (at most
/// <c>Jwt:MaxTokenLifetime</c>) and the <c>typ</c> of the role (<see cref="TokenTypes"/>).
/// </summary>
public sealed class TokenIssuer(SigningKeys keys, IOptions<JwtOptions> options, TimeProvider clock)
{
    private readonly JsonWebTokenHandler _handler = new();

    public string Issue(string subject, string role, TimeSpan lifetime, IReadOnlyDictionary<string, object>? extraClaims = null) =>
        Issue(subject, role, clock.GetUtcNow(), lifetime, extraClaims);

    /// <summary>A token valid from <paramref name="issuedAt"/>: a session's token carries the session's own times.</summary>
    public string Issue(string subject, string role, DateTimeOffset issuedAt, TimeSpan lifetime, IReadOnlyDictionary<string, object>? extraClaims = null)
    {
        var maximum = options.Value.MaxTokenLifetime;
        if (lifetime <= TimeSpan.Zero || lifetime > maximum)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, $"A token lives more than zero and at most Jwt:MaxTokenLifetime ({maximum}).");
        }
        var now = issuedAt.UtcDateTime;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [JwtRegisteredClaimNames.Sub] = subject,
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString(),
            ["role"] = role,
        };
        foreach (var (name, value) in extraClaims ?? new Dictionary<string, object>())
        {
            claims[name] = value;
        }
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = options.Value.Audience,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = keys.SigningCredentials,
            TokenType = TokenTypes.For(role),
        });
    }
}
