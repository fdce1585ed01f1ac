namespace ChatGrains.ApiGateway.Auth;

/// <summary><c>Jwt:*</c> configuration.</summary>
public sealed class JwtOptions
{
    public const string Section = "Jwt";

    public string Issuer { get; set; } = "chatgrains";

    public string Audience { get; set; } = "chatgrains";

    /// <summary>RSA private key (PEM) that signs tokens; every node of a cluster needs the same one.</summary>
    public string? SigningKeyPath { get; set; }

    /// <summary>Extra keys (PEM, public or private) whose tokens are still accepted: the keys being rotated out.</summary>
    public string[] VerificationKeyPaths { get; set; } = [];

    public TimeSpan SessionTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The longest a token may live: a leaked token stays usable no longer than this.</summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>The roles a token's <c>role</c> claim may carry.</summary>
public static class Roles
{
    public const string Visitor = "visitor";
    public const string Commercial = "commercial";
    public const string Admin = "admin";

    /// <summary>Another system reading the event log: no part in any chat.</summary>
    public const string Integration = "integration";

    /// <summary>The roles that take part in chats.</summary>
    public static readonly IReadOnlyList<string> All = [Visitor, Commercial, Admin];

    /// <summary>Every role a token may carry (what <c>token --role</c> accepts).</summary>
    public static readonly IReadOnlyList<string> Issuable = [.. All, Integration];
}
