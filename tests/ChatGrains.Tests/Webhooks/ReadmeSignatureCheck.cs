using System.Security.Cryptography;
using System.Text;

namespace ChatGrains.Tests.Webhooks;

/// <summary>The README's C# verification snippet, compiled: <see cref="ReadmeSignatureSnippetTests"/> checks the README still shows exactly this.</summary>
internal static class ReadmeSignatureCheck
{
    public static bool IsSignedBy(string secret, string id, string timestamp, string body, string signatureHeader)
    {
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(timestamp)) > 300) return false;
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        return signatureHeader.Split(' ').Any(s => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(s), Encoding.UTF8.GetBytes(expected)));
    }
}
