using ChatGrains.Silo;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatGrains.ApiGateway.Auth;

public static class AuthExtensions
{
    /// <summary>Any of the service's roles: what opening a chat requires.</summary>
    public const string ChatParticipantPolicy = "chat-participant";

    /// <summary>Reads the event log: admins, and the <c>integration</c> tokens of systems that consume it.</summary>
    public const string EventReaderPolicy = "event-reader";

    /// <summary>Admins only (webhooks).</summary>
    public const string AdminPolicy = "admin";

    public static IServiceCollection AddChatAuth(this IServiceCollection services, IConfiguration configuration)
    {
        var clustered = StorageOptions.IsClustered(configuration);
        services.AddOptions<JwtOptions>()
            .BindConfiguration(JwtOptions.Section)
            .Validate(o => !clustered || !string.IsNullOrWhiteSpace(o.SigningKeyPath),
                "Jwt:SigningKeyPath must name the RSA private key (PEM) that every node shares when ConnectionStrings:ChatGrains is set; nodes on one database must sign with one key.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Issuer) && !string.IsNullOrWhiteSpace(o.Audience),
                "Jwt:Issuer and Jwt:Audience must not be empty.")
            .Validate(o => o.SessionTokenLifetime > TimeSpan.Zero,
                "Jwt:SessionTokenLifetime must be positive.")
            .Validate(o => o.MaxTokenLifetime > TimeSpan.Zero,
                "Jwt:MaxTokenLifetime must be positive.")
            .Validate(o => o.SessionTokenLifetime <= o.MaxTokenLifetime,
                "Jwt:SessionTokenLifetime must not exceed Jwt:MaxTokenLifetime (24 hours unless configured).")
            .ValidateOnStart();
        services.AddOptions<AuthOptions>()
            .BindConfiguration(AuthOptions.Section)
            .Validate(o => o.ValidatedTokenCacheSize >= 0,
                "Auth:ValidatedTokenCacheSize must be 0 (no cache) or a positive number of tokens.")
            .ValidateOnStart();
        services.AddSingleton<SigningKeys>();
        services.AddSingleton<TokenIssuer>();
        // A singleton, so the host disposes it; built only when configured (size > 0).
        services.AddSingleton(provider => new ValidatedTokenCache(
            new JsonWebTokenHandler { MapInboundClaims = false },
            provider.GetRequiredService<IOptions<AuthOptions>>().Value.ValidatedTokenCacheSize,
            provider.GetRequiredService<TimeProvider>()));

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<SigningKeys, IOptions<JwtOptions>, IOptions<AuthOptions>, IServiceProvider>((bearer, keys, jwt, auth, provider) =>
            {
                bearer.MapInboundClaims = false;
                if (auth.Value.ValidatedTokenCacheSize > 0)
                {
                    // In place of the default JsonWebTokenHandler, which it wraps: it stands in front of
                    // the signature, lifetime, issuer, audience and typ checks only; the events below,
                    // authorisation and every endpoint's own checks still run on every request.
                    bearer.TokenHandlers.Clear();
                    bearer.TokenHandlers.Add(provider.GetRequiredService<ValidatedTokenCache>());
                }
                // WWW-Authenticate says error="invalid_token" (RFC 6750) but never why: no internals.
                bearer.IncludeErrorDetails = true;
                bearer.Events = new JwtBearerEvents
                {
                    // Browsers cannot set headers on a WebSocket, so SignalR clients send the
                    // token as access_token in the query string: accepted on the hub only.
                    OnMessageReceived = context =>
                    {
                        if (context.HttpContext.Request.Path.StartsWithSegments(Conversations.ConversationsHub.Path)
                            && context.Request.Query["access_token"] is [{ Length: > 0 } token])
                        {
                            context.Token = token;
                        }
                        return Task.CompletedTask;
                    },
                    OnChallenge = context =>
                    {
                        context.ErrorDescription = null;
                        context.ErrorUri = null;
                        return Task.CompletedTask;
                    },
                };
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Value.Issuer,
                    ValidAudience = jwt.Value.Audience,
                    IssuerSigningKeys = keys.VerificationKeys,
                    ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
                    // Replaces ValidTypes: typ must match the role, and no crit header is accepted.
                    TypeValidator = TokenTypes.ValidateHeader,
                    RequireSignedTokens = true,
                    RequireExpirationTime = true,
                    ClockSkew = TimeSpan.FromSeconds(30),
                    NameClaimType = "sub",
                    RoleClaimType = "role",
                };
            });

        services.AddAuthorizationBuilder()
            .AddPolicy(ChatParticipantPolicy, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.All))
            .AddPolicy(EventReaderPolicy, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Admin, Roles.Integration))
            .AddPolicy(AdminPolicy, policy => policy.RequireAuthenticatedUser().RequireRole(Roles.Admin));
        return services;
    }

    /// <summary>The public keys, so any JWT library can verify this service's tokens.</summary>
    public static IEndpointConventionBuilder MapJwks(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/.well-known/jwks.json", (SigningKeys keys, HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "public, max-age=300";
            return TypedResults.Ok(new JwkSet([.. keys.VerificationKeys.Select(JsonWebKey.From)]));
        })
        .WithTags("Keys")
        .WithName("GetJwks");
}

/// <summary>RFC 7517 key set, public RSA keys only.</summary>
public sealed record JwkSet(IReadOnlyList<JsonWebKey> Keys);

public sealed record JsonWebKey(string Kty, string Use, string Alg, string Kid, string N, string E)
{
    public static JsonWebKey From(RsaSecurityKey key) => new(
        Kty: "RSA",
        Use: "sig",
        Alg: SecurityAlgorithms.RsaSha256,
        Kid: key.KeyId,
        N: Base64UrlEncoder.Encode(key.Parameters.Modulus),
        E: Base64UrlEncoder.Encode(key.Parameters.Exponent));
}
