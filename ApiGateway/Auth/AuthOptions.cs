namespace ChatGrains.ApiGateway.Auth;

/// <summary><c>Auth:*</c> configuration: how the node checks the tokens it receives.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>How many validated Bearer tokens are remembered (<see cref="ValidatedTokenCache"/>); 0 turns the cache off.</summary>
    public int ValidatedTokenCacheSize { get; set; } = 10_000;
}
