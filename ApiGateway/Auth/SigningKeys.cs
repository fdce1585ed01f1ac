using System.Security.Cryptography;
using ChatGrains.Silo;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace ChatGrains.ApiGateway.Auth;

/// <summary>
/// The RSA key this node signs with and every key it accepts, each with its <c>kid</c>
/// (the RFC 7638 thumbprint, so nodes holding the same key agree on its id without talking).
/// </summary>
public sealed class SigningKeys
{
    public const string GeneratedKeyFileName = "jwt-signing-key.pem";

    public SigningKeys(IOptions<JwtOptions> jwt, IOptions<StorageOptions> storage)
    {
        var signingKeyPath = jwt.Value.SigningKeyPath
            ?? LoadOrGenerate(Path.Combine(storage.Value.DataDirectory, GeneratedKeyFileName));
        SigningKey = Load(signingKeyPath, "Jwt:SigningKeyPath", includePrivate: true);
        VerificationKeys =
        [
            Public(SigningKey),
            .. jwt.Value.VerificationKeyPaths.Select(path => Load(path, "Jwt:VerificationKeyPaths", includePrivate: false)),
        ];
        SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.RsaSha256);
    }

    public RsaSecurityKey SigningKey { get; }

    public SigningCredentials SigningCredentials { get; }

    /// <summary>Public halves only: the signing key first, then the keys being rotated out.</summary>
    public IReadOnlyList<RsaSecurityKey> VerificationKeys { get; }

    private static RsaSecurityKey Load(string path, string settingName, bool includePrivate)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{settingName}: cannot read the key file '{path}' ({ex.Message}).", ex);
        }

        using var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"{settingName}: '{path}' holds no RSA key in PEM form.", ex);
        }
        if (rsa.KeySize < 2048)
        {
            throw new InvalidOperationException($"{settingName}: '{path}' is a {rsa.KeySize}-bit key; at least 2048 bits are required.");
        }

        var key = new RsaSecurityKey(rsa.ExportParameters(includePrivateParameters: includePrivate));
        key.KeyId = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
        return key;
    }

    private static RsaSecurityKey Public(RsaSecurityKey key) =>
        new(new RSAParameters { Modulus = key.Parameters.Modulus, Exponent = key.Parameters.Exponent }) { KeyId = key.KeyId };

    /// <summary>A single node keeps one generated key in its data folder, so restarts keep tokens valid.</summary>
    private static string LoadOrGenerate(string path)
    {
        if (File.Exists(path))
        {
            return path;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var rsa = RSA.Create(2048);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using var writer = new StreamWriter(path, options);
            writer.Write(rsa.ExportPkcs8PrivateKeyPem());
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process generated it first: use theirs.
        }
        return path;
    }
}
