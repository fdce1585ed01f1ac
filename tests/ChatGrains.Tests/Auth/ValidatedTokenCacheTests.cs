using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using ChatGrains.ApiGateway;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatGrains.Tests.Auth;

/// <summary>
/// A Bearer token already validated is not verified again (<see cref="ValidatedTokenCache"/>), and
/// nothing refused before is accepted now: expiry, tampering, the typ/role rules, authorisation.
/// </summary>
public sealed class ValidatedTokenCacheTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private TestNode Node => fixture.Node;

    /// <summary>The node's own validation parameters, as its JwtBearer handler uses them.</summary>
    private TokenValidationParameters NodeParameters =>
        Node.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters;

    [Fact]
    public async Task ATokenValidatedOnceIsAcceptedAgainWithoutBeingValidatedAgain()
    {
        var inner = new CountingHandler();
        using var cache = new ValidatedTokenCache(inner, 100, TimeProvider.System);
        var subject = Guid.NewGuid();
        var token = Node.Token(Roles.Commercial, subject);

        var results = new List<TokenValidationResult>();
        for (var i = 0; i < 3; i++)
        {
            results.Add(await cache.ValidateTokenAsync(token, NodeParameters));
        }

        Assert.All(results, result => Assert.True(result.IsValid, result.Exception?.Message));
        Assert.Equal(1, inner.Calls);
        Assert.All(results, result =>
        {
            Assert.Equal(subject.ToString(), result.ClaimsIdentity.Name);
            Assert.True(new ClaimsPrincipal(result.ClaimsIdentity).IsInRole(Roles.Commercial));
            Assert.Equal(new JsonWebToken(token).ValidTo, result.SecurityToken.ValidTo);
        });
    }

    [Fact]
    public async Task EachValidationGetsItsOwnIdentity()
    {
        using var cache = new ValidatedTokenCache(new CountingHandler(), 100, TimeProvider.System);
        var token = Node.Token(Roles.Visitor, Guid.NewGuid());

        var first = await cache.ValidateTokenAsync(token, NodeParameters);
        var second = await cache.ValidateTokenAsync(token, NodeParameters);
        first.ClaimsIdentity.AddClaim(new Claim("role", Roles.Admin));
        second.ClaimsIdentity.AddClaim(new Claim("role", Roles.Admin));
        var third = await cache.ValidateTokenAsync(token, NodeParameters);

        Assert.NotSame(second.ClaimsIdentity, third.ClaimsIdentity);
        Assert.False(new ClaimsPrincipal(third.ClaimsIdentity).IsInRole(Roles.Admin));
        Assert.True(new ClaimsPrincipal(third.ClaimsIdentity).IsInRole(Roles.Visitor));
        Assert.True(third.ClaimsIdentity.IsAuthenticated);
    }

    [Fact]
    public async Task ATokenThatExpiresWhileCachedIsRefusedAfterItsExpiry()
    {
        var inner = new CountingHandler();
        using var cache = new ValidatedTokenCache(inner, 100, TimeProvider.System);
        // No skew, so the refusal comes at exp rather than 30 s after it.
        var parameters = NodeParameters.Clone();
        parameters.ClockSkew = TimeSpan.Zero;
        var token = Node.Token(Roles.Commercial, Guid.NewGuid(), TimeSpan.FromSeconds(2));
        var expires = new JsonWebToken(token).ValidTo;

        var before = await cache.ValidateTokenAsync(token, parameters);
        while (DateTime.UtcNow <= expires)
        {
            await Task.Delay(50);
        }
        var after = await cache.ValidateTokenAsync(token, parameters);

        Assert.True(before.IsValid, before.Exception?.Message);
        Assert.False(after.IsValid);
        Assert.IsType<SecurityTokenExpiredException>(after.Exception);
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task AnEntryEndsAtItsTokensExpiryOrAfterFiveMinutesWhicheverIsFirst()
    {
        var inner = new CountingHandler();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        using var cache = new ValidatedTokenCache(inner, 100, clock);
        var longLived = Node.Token(Roles.Commercial, Guid.NewGuid(), TimeSpan.FromMinutes(20));
        var shortLived = Node.Token(Roles.Commercial, Guid.NewGuid(), TimeSpan.FromMinutes(3));

        await cache.ValidateTokenAsync(longLived, NodeParameters);
        await cache.ValidateTokenAsync(shortLived, NodeParameters);
        clock.Advance(TimeSpan.FromMinutes(2));
        await cache.ValidateTokenAsync(longLived, NodeParameters);
        await cache.ValidateTokenAsync(shortLived, NodeParameters);
        var answeredFromMemory = 2 - (inner.Calls - 2);
        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await cache.ValidateTokenAsync(shortLived, NodeParameters);
        var shortLivedAgain = inner.Calls - 2;
        clock.Advance(TimeSpan.FromMinutes(2));
        await cache.ValidateTokenAsync(longLived, NodeParameters);
        var longLivedAgain = inner.Calls - 2 - shortLivedAgain;

        Assert.Equal(2, answeredFromMemory);
        Assert.Equal(1, shortLivedAgain); // past its exp by the cache's clock
        Assert.Equal(1, longLivedAgain); // five minutes after it was kept
    }

    [Fact]
    public async Task ATamperedTokenIsRefusedAfterTheGenuineOneIsCached()
    {
        var inner = new CountingHandler();
        using var cache = new ValidatedTokenCache(inner, 100, TimeProvider.System);
        var genuine = Node.Token(Roles.Admin, Guid.NewGuid());
        var (header, payload, signature) = Split(genuine);
        using var otherKey = RSA.Create(2048);
        var signedByAnotherKey = $"{header}.{payload}.{Base64UrlEncoder.Encode(otherKey.SignData(
            System.Text.Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))}";

        var accepted = await cache.ValidateTokenAsync(genuine, NodeParameters);
        var flipped = await cache.ValidateTokenAsync($"{header}.{payload}.{AlteredInTheMiddle(signature)}", NodeParameters);
        var foreign = await cache.ValidateTokenAsync(signedByAnotherKey, NodeParameters);
        var again = await cache.ValidateTokenAsync(genuine, NodeParameters);

        Assert.True(accepted.IsValid, accepted.Exception?.Message);
        Assert.IsType<SecurityTokenInvalidSignatureException>(flipped.Exception);
        Assert.IsType<SecurityTokenInvalidSignatureException>(foreign.Exception);
        Assert.False(flipped.IsValid);
        Assert.False(foreign.IsValid);
        Assert.True(again.IsValid);
        Assert.Equal(3, inner.Calls);
    }

    public static TheoryData<string> RejectedTokens() => [.. Tokens.Rejected().Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(RejectedTokens))]
    public async Task ARefusedTokenIsValidatedInFullEveryTime(string kind)
    {
        var inner = new CountingHandler();
        using var cache = new ValidatedTokenCache(inner, 100, TimeProvider.System);
        var token = Tokens.Rejected().Single(t => t.Name == kind).Make(Node);

        var first = await cache.ValidateTokenAsync(token, NodeParameters);
        var second = await cache.ValidateTokenAsync(token, NodeParameters);

        Assert.False(first.IsValid);
        Assert.False(second.IsValid);
        Assert.Equal(first.Exception?.GetType(), second.Exception?.GetType());
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task TheCacheKeepsNoMoreTokensThanItsSize()
    {
        const int size = 3;
        var inner = new CountingHandler();
        using var cache = new ValidatedTokenCache(inner, size, TimeProvider.System);
        var tokens = Enumerable.Range(0, 10).Select(_ => Node.Token(Roles.Commercial, Guid.NewGuid())).ToList();
        foreach (var token in tokens)
        {
            Assert.True((await cache.ValidateTokenAsync(token, NodeParameters)).IsValid);
        }

        var answeredFromMemory = 0;
        foreach (var token in tokens)
        {
            var calls = inner.Calls;
            Assert.True((await cache.ValidateTokenAsync(token, NodeParameters)).IsValid);
            answeredFromMemory += inner.Calls == calls ? 1 : 0;
        }

        Assert.InRange(answeredFromMemory, 0, size);
    }

    [Fact]
    public async Task ANodeVerifiesARepeatedTokensSignatureOnceOverHttpAndOnTheHub()
    {
        var verifications = new CountingCryptoProviderFactory();
        await using var node = await StartNodeCountingVerificationsAsync(verifications);
        // An admin may replay any chat (a commercial only one offered to it).
        using var client = node.ClientFor(Roles.Admin);
        var chatId = Guid.NewGuid();
        var body = ChatRequests.MinimalBody(Guid.NewGuid());

        var statuses = new List<HttpStatusCode>();
        using (var first = await client.PutChatAsync(chatId, body))
        {
            statuses.Add(first.StatusCode);
        }
        var afterFirst = verifications.Count;
        for (var i = 0; i < 3; i++)
        {
            using var replay = await client.PutChatAsync(chatId, body);
            statuses.Add(replay.StatusCode);
        }
        var afterReplays = verifications.Count;

        var hubToken = node.Token(Roles.Commercial, Guid.NewGuid());
        await using (await HubClient.ConnectAsync(node, hubToken)) { }
        var afterFirstConnection = verifications.Count;
        await using (var again = await HubClient.ConnectAsync(node, hubToken))
        {
            await again.RefusedAsync("AcceptChat", Guid.NewGuid().ToString());
        }

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.True(afterFirst > 0, "the first request verifies the signature");
        Assert.Equal(afterFirst, afterReplays);
        Assert.True(afterFirstConnection > afterReplays, "the hub's first connection verifies its token");
        Assert.Equal(afterFirstConnection, verifications.Count);
    }

    [Fact]
    public async Task WithTheCacheOffEveryRequestVerifiesTheSignature()
    {
        var verifications = new CountingCryptoProviderFactory();
        await using var node = await StartNodeCountingVerificationsAsync(verifications, new Dictionary<string, string?> { ["Auth:ValidatedTokenCacheSize"] = "0" });
        // An admin may replay any chat (a commercial only one offered to it).
        using var client = node.ClientFor(Roles.Admin);
        var chatId = Guid.NewGuid();
        var body = ChatRequests.MinimalBody(Guid.NewGuid());

        var counts = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PutChatAsync(chatId, body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            counts.Add(verifications.Count);
        }

        Assert.True(counts[0] > 0 && counts[1] > counts[0] && counts[2] > counts[1], string.Join(", ", counts));
    }

    [Fact]
    public async Task ANegativeCacheSizeRefusesToStartNamingTheSetting()
    {
        await using var app = ChatGrainsApp.Build(
        [
            "--urls=http://127.0.0.1:0",
            $"--Storage:SqlitePath={Path.Combine(Path.GetTempPath(), $"chatgrains-node-{Guid.NewGuid():N}", "chatgrains.db")}",
            "--Auth:ValidatedTokenCacheSize=-1",
        ]);

        var exception = await Assert.ThrowsAnyAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Auth:ValidatedTokenCacheSize", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAcceptedTokenStillMeetsAuthorisationOnEveryRequest()
    {
        using var commercial = Node.ClientFor(Roles.Commercial);
        var chatId = Guid.NewGuid();

        using var created = await commercial.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));
        using var operatorsOnly = await commercial.GetAsync(new Uri("/dashboard/ClusterStats", UriKind.Relative));
        using var operatorsOnlyAgain = await commercial.GetAsync(new Uri("/dashboard/ClusterStats", UriKind.Relative));
        using var unknownRole = new HttpClient { BaseAddress = Node.BaseAddress };
        unknownRole.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Tokens.Create(Node, role: "guest"));
        using var refused = await unknownRole.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
        using var refusedAgain = await unknownRole.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, operatorsOnly.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, operatorsOnlyAgain.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refusedAgain.StatusCode);
    }

    [Theory]
    [MemberData(nameof(RejectedTokens))]
    public async Task ATokenTheNodeRefusedIsRefusedAgain(string kind)
    {
        using var client = new HttpClient { BaseAddress = Node.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Tokens.Rejected().Single(t => t.Name == kind).Make(Node));

        using var first = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
        using var second = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
    }

    [Fact]
    public async Task ATamperedCopyOfAnAcceptedTokenIs401()
    {
        var genuine = Node.Token(Roles.Commercial, Guid.NewGuid());
        var (header, payload, signature) = Split(genuine);
        using var client = new HttpClient { BaseAddress = Node.BaseAddress };

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", genuine);
        using var accepted = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{header}.{payload}.{AlteredInTheMiddle(signature)}");
        using var tampered = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, tampered.StatusCode);
    }

    private static (string Header, string Payload, string Signature) Split(string token) =>
        token.Split('.') is [var header, var payload, var signature] ? (header, payload, signature) : throw new ArgumentException("not a JWS", nameof(token));

    /// <summary>
    /// One character changed away from the end: the last base64url character of a 256-byte signature
    /// also carries padding bits, so changing it may leave the signature's bytes as they were.
    /// </summary>
    private static string AlteredInTheMiddle(string signature)
    {
        var middle = signature.Length / 2;
        var replacement = signature[middle] == 'A' ? 'B' : 'A';
        return $"{signature[..middle]}{replacement}{signature[(middle + 1)..]}";
    }

    /// <summary>A node whose JwtBearer handler verifies signatures through <paramref name="verifications"/>.</summary>
    private static Task<TestNode> StartNodeCountingVerificationsAsync(CountingCryptoProviderFactory verifications, IReadOnlyDictionary<string, string?>? settings = null) =>
        TestNode.StartOnSqliteAsync(settings, builder => builder.Services.PostConfigure<JwtBearerOptions>(
            JwtBearerDefaults.AuthenticationScheme,
            bearer => bearer.TokenValidationParameters.CryptoProviderFactory = verifications));

    /// <summary>The real handler, counting the validations that reach it.</summary>
    private sealed class CountingHandler : JsonWebTokenHandler
    {
        private int _calls;

        public CountingHandler() => MapInboundClaims = false;

        public int Calls => Volatile.Read(ref _calls);

        public override Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
        {
            Interlocked.Increment(ref _calls);
            return base.ValidateTokenAsync(token, validationParameters);
        }
    }

    /// <summary>The default crypto, counting each signature provider asked for to verify a token.</summary>
    private sealed class CountingCryptoProviderFactory : CryptoProviderFactory
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override SignatureProvider CreateForVerifying(SecurityKey key, string algorithm)
        {
            Interlocked.Increment(ref _count);
            return base.CreateForVerifying(key, algorithm);
        }

        public override SignatureProvider CreateForVerifying(SecurityKey key, string algorithm, bool cacheProvider)
        {
            Interlocked.Increment(ref _count);
            return base.CreateForVerifying(key, algorithm, cacheProvider);
        }
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
