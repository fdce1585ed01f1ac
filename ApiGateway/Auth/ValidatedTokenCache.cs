using System.Security.Claims;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.IdentityModel.Tokens;

namespace ChatGrains.ApiGateway.Auth;

/// <summary>
/// A <see cref="TokenHandler"/> that answers a token it has already validated from memory, so a
/// client sending the same Bearer token on every request pays for one RS256 verification, not one
/// per request (most of a replay's CPU otherwise).
/// </summary>
/// <remarks>
/// Sound because everything the wrapped handler checks is fixed by the token's text and the node's
/// configuration (keys, issuer, audience, the typ/role rule of <see cref="TokenTypes"/>), except the
/// time: so the key is the whole token string (any altered character is another key, validated in
/// full), and an entry is never used at or after the token's <c>exp</c>. From then on the wrapped
/// handler decides again, with its clock skew. Only successes are kept. The parameters are not part
/// of the key: one instance serves one scheme's parameters (the JwtBearer scheme's).
/// </remarks>
public sealed class ValidatedTokenCache : TokenHandler, IDisposable
{
    /// <summary>
    /// Keys and settings are read once at start today; this bounds how long a success could outlive a
    /// change if they are ever reloaded (a key rotated out, another issuer or audience).
    /// </summary>
    public static readonly TimeSpan MaxEntryLifetime = TimeSpan.FromMinutes(5);

    private readonly TokenHandler _inner;
    private readonly TimeProvider _clock;
    private readonly MemoryCache _validated;

    /// <param name="inner">The handler that really validates.</param>
    /// <param name="size">The most tokens kept; when full, new ones are validated but not kept until space frees.</param>
    /// <param name="clock">Decides when an entry has expired.</param>
    public ValidatedTokenCache(TokenHandler inner, int size, TimeProvider clock)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        _inner = inner;
        _clock = clock;
        _validated = new MemoryCache(new MemoryCacheOptions { SizeLimit = size });
    }

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = _clock.GetUtcNow();
        if (_validated.Get<Validated>(token) is { } earlier && earlier.Expires > now)
        {
            return earlier.Result();
        }

        var result = await _inner.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && Validated.From(result, now) is { } validated)
        {
            _validated.Set(token, validated, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpiration = validated.Expires });
        }
        return result;
    }

    // Only the string overload is cached: it is the one JwtBearerHandler calls.
    public override Task<TokenValidationResult> ValidateTokenAsync(SecurityToken token, TokenValidationParameters validationParameters) =>
        _inner.ValidateTokenAsync(token, validationParameters);

    public override SecurityToken ReadToken(string token) => _inner.ReadToken(token);

    public void Dispose() => _validated.Dispose();

    /// <summary>What a later request needs of a success: the token, and an identity to copy for each request.</summary>
    private sealed record Validated(SecurityToken Token, ClaimsIdentity Identity, string Issuer, string? TokenType, DateTimeOffset Expires)
    {
        public static Validated? From(TokenValidationResult result, DateTimeOffset now)
        {
            // ValidTo is DateTime.MinValue for a token without exp: never kept.
            var expires = new DateTimeOffset(DateTime.SpecifyKind(result.SecurityToken.ValidTo, DateTimeKind.Utc));
            if (expires <= now)
            {
                return null;
            }
            var cap = now + MaxEntryLifetime;
            // A copy: the first request owns the result's identity and may change it.
            return new Validated(result.SecurityToken, result.ClaimsIdentity.Clone(), result.Issuer, result.TokenType, expires < cap ? expires : cap);
        }

        /// <summary>
        /// A fresh result around a copy of the identity: handlers and endpoints may add claims to a
        /// request's principal, which must not reach the next request. The token is read-only.
        /// </summary>
        public TokenValidationResult Result() => new()
        {
            IsValid = true,
            SecurityToken = Token,
            ClaimsIdentity = Identity.Clone(),
            Issuer = Issuer,
            TokenType = TokenType,
        };
    }
}
