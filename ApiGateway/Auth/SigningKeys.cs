using System.Security.Cryptography;
using System.Text;
using ChatGrains.Silo;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace ChatGrains.ApiGateway.Auth;

/// <summary>
/// The RSA key this node signs with and every key it accepts, each with its <c>kid</c>
/// (the RFC 7638 thumbprint, so nodes holding the same key agree on its id without talking).
/// </summary>
public sealed partial class SigningKeys
{
    public const string GeneratedKeyFileName = "jwt-signing-key.pem";

    public SigningKeys(IOptions<JwtOptions> jwt, IOptions<StorageOptions> storage, ILogger<SigningKeys> logger)
    {
        var signingKeyPath = jwt.Value.SigningKeyPath;
        if (signingKeyPath is null)
        {
            signingKeyPath = LoadOrGenerate(Path.Combine(storage.Value.DataDirectory, GeneratedKeyFileName));
        }
        else if (File.Exists(signingKeyPath) && PrivateFiles.IsOpenToGroupOrOthers(signingKeyPath))
        {
            // Not fatal (a mounted secret may be shared on purpose), but whoever reads it can sign
            // tokens. Reported, never changed: the node did not make this file.
            LogKeyOpenToOthers(logger, signingKeyPath, Convert.ToString((int)File.GetUnixFileMode(signingKeyPath), 8));
        }
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
        PrivateFiles.RefuseLinkOrSpecialFile(path, settingName);
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

    /// <summary>
    /// A single node keeps one generated key in its data folder, so restarts keep tokens valid. It is
    /// written whole to a 0600 temp file beside it and renamed into place: a crash never leaves a
    /// truncated key, and of nodes starting together on one folder the first rename wins for all.
    /// </summary>
    private static string LoadOrGenerate(string path)
    {
        PrivateFiles.RefuseLinkOrSpecialFile(path, "Jwt:SigningKeyPath");
        if (File.Exists(path))
        {
            return path;
        }
        var folder = PrivateFiles.CreateFolder(Path.GetDirectoryName(path)!);
        var temporary = Path.Combine(folder, $".{GeneratedKeyFileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var rsa = RSA.Create(2048))
            using (var file = new FileStream(temporary, PrivateFiles.NewFile()))
            {
                file.Write(Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem()));
                file.Flush(flushToDisk: true);
            }
            // No overwrite: on Unix a hard link, which fails if another node's key is already there.
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process generated it first: use theirs.
        }
        finally
        {
            File.Delete(temporary);
        }
        return path;
    }

    [LoggerMessage(LogLevel.Warning, "Jwt:SigningKeyPath '{Path}' is open to group or others (mode {Mode}); whoever can read it can sign tokens: chmod 600 it")]
    private static partial void LogKeyOpenToOthers(ILogger logger, string path, string mode);
}
