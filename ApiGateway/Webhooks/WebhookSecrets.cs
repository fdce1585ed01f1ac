using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace ChatGrains.ApiGateway.Webhooks;

/// <summary>
/// Signing secrets: <c>whsec_</c> and the base64 of 32 random bytes, which are the HMAC key (as
/// Standard Webhooks' libraries read it). Stored only encrypted with the cluster's data-protection
/// keys; shown once, when made.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider protection)
{
    private const string Prefix = "whsec_";

    private readonly IDataProtector _protector = protection.CreateProtector("ChatGrains.Webhooks.SigningSecret.v1");

    // Unprotecting costs more than the HMAC it keys, on every delivery: each stored secret is
    // unprotected once per node (a few per webhook over its life).
    private readonly ConcurrentDictionary<string, byte[]> _keys = new(StringComparer.Ordinal);

    /// <summary>A new secret, and the form it is stored in.</summary>
    public (string Secret, string Protected) New()
    {
        var secret = Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        return (secret, _protector.Protect(secret));
    }

    /// <summary>The HMAC key of a stored secret.</summary>
    public byte[] KeyOf(string protectedSecret) =>
        _keys.GetOrAdd(protectedSecret, stored => Convert.FromBase64String(_protector.Unprotect(stored)[Prefix.Length..]));
}
