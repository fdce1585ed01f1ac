namespace ChatGrains.Grains;

/// <summary>
/// One dashboard sign-in, keyed by the session id its cookie carries. A cookie is a bearer
/// credential until it expires; signing out records its session here, so every node refuses
/// the cookie from then on, also after this grain was collected or its node restarted.
/// </summary>
[Alias("chatgrains.IOperatorSessionGrain")]
public interface IOperatorSessionGrain : IGrainWithGuidKey
{
    /// <summary>Revokes the session; <paramref name="cookieExpires"/> says when the record stops mattering.</summary>
    [Alias("Revoke")]
    Task Revoke(DateTimeOffset cookieExpires);

    [Alias("IsRevoked")]
    Task<bool> IsRevoked();
}
