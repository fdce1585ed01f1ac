using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ChatGrains.Bench.HubLoad;

/// <summary>
/// Commercial JWTs as the node's <c>token</c> command makes them (ApiGateway/Auth/TokenIssuer.cs):
/// RS256 with the nodes' signing key, header <c>typ</c> JWT and the key's <c>kid</c>, issuer,
/// audience, <c>role</c> commercial. The kid is read from the node's JWKS (the entry whose
/// modulus is this key's), so a wrong key file fails here, not as 401s later.
/// </summary>
internal sealed class CommercialTokens : IDisposable
{
    private readonly RSA _rsa;
    private readonly string _header;
    private readonly string _issuer;
    private readonly string _audience;

    private CommercialTokens(RSA rsa, string kid, string issuer, string audience)
    {
        _rsa = rsa;
        _issuer = issuer;
        _audience = audience;
        var header = new JsonObject { ["alg"] = "RS256", ["kid"] = kid, ["typ"] = "JWT" };
        _header = Encode(header);
    }

    public static async Task<CommercialTokens> CreateAsync(string keyPath, HttpClient node, string issuer, string audience)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(await File.ReadAllTextAsync(keyPath));
            var modulus = Base64Url.EncodeToString(rsa.ExportParameters(includePrivateParameters: false).Modulus);
            using var jwks = JsonDocument.Parse(await node.GetStringAsync(new Uri("/.well-known/jwks.json", UriKind.Relative)));
            var kid = jwks.RootElement.GetProperty("keys").EnumerateArray()
                .Where(key => key.GetProperty("n").GetString() == modulus)
                .Select(key => key.GetProperty("kid").GetString())
                .FirstOrDefault() ?? throw new InvalidOperationException($"the node's JWKS has no key with the modulus of {keyPath}");
            return new CommercialTokens(rsa, kid, issuer, audience);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    public string Issue(Guid subject, TimeSpan lifetime)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var payload = new JsonObject
        {
            ["sub"] = subject.ToString("D"),
            ["jti"] = Guid.NewGuid().ToString("D"),
            ["role"] = "commercial",
            ["iss"] = _issuer,
            ["aud"] = _audience,
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + (long)lifetime.TotalSeconds,
        };
        var signed = $"{_header}.{Encode(payload)}";
        var signature = _rsa.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signed}.{Base64Url.EncodeToString(signature)}";
    }

    public void Dispose() => _rsa.Dispose();

    private static string Encode(JsonObject json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json.ToJsonString()));
}
