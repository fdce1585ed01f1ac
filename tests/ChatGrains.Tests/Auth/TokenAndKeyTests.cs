using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using ChatGrains.ApiGateway;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatGrains.Tests.Auth;

public sealed class TokenAndKeyTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private TestNode Node => fixture.Node;

    [Fact]
    public async Task TheTokenCommandPrintsATokenTheNodeAccepts()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = TokenCommand.Run(Node.Services, ["token", "--role", "commercial", "--sub", Guid.NewGuid().ToString(), "--lifetime", "00:05:00"], output, error);

        Assert.Equal(0, exitCode);
        var token = output.ToString().Trim();
        var jwt = new JsonWebToken(token);
        Assert.Equal("RS256", jwt.Alg);
        Assert.Equal("JWT", jwt.Typ);
        Assert.Equal("commercial", jwt.GetClaim("role").Value);
        Assert.InRange(jwt.ValidTo - jwt.ValidFrom, TimeSpan.FromMinutes(4.9), TimeSpan.FromMinutes(5.1));
        using var client = new HttpClient { BaseAddress = Node.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("--role", "root", "--sub", "550e8400-e29b-4b5b-9cb4-123456789000")]
    [InlineData("--role", "admin", "--sub", "not-a-uuid")]
    [InlineData("--role", "admin")]
    [InlineData("--role", "admin", "--sub", "550e8400-e29b-4b5b-9cb4-123456789000", "--lifetime", "soon")]
    public void TheTokenCommandRefusesBadArguments(params string[] arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = TokenCommand.Run(Node.Services, ["token", .. arguments], output, error);

        Assert.Equal(2, exitCode);
        Assert.Empty(output.ToString());
        Assert.NotEmpty(error.ToString());
    }

    [Fact]
    public void TheTokenCommandRefusesALifetimeLongerThanTheMaximumNamingTheSetting()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exitCode = TokenCommand.Run(Node.Services, ["token", "--role", "admin", "--sub", Guid.NewGuid().ToString(), "--lifetime", "1.00:00:01"], output, error);

        Assert.Equal(2, exitCode);
        Assert.Empty(output.ToString());
        Assert.Contains("--lifetime: 1.00:00:01 is longer than Jwt:MaxTokenLifetime (1.00:00:00)", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheTokenCommandIssuesTheMaximumLifetimeItself()
    {
        var output = new StringWriter();

        var exitCode = TokenCommand.Run(Node.Services, ["token", "--role", "admin", "--sub", Guid.NewGuid().ToString(), "--lifetime", "1.00:00:00"], output, new StringWriter());

        Assert.Equal(0, exitCode);
        var jwt = new JsonWebToken(output.ToString().Trim());
        Assert.Equal(TimeSpan.FromHours(24), jwt.ValidTo - jwt.ValidFrom);
    }

    [Fact]
    public async Task AConfiguredMaximumLifetimeAlsoShortensTheDefaultOne()
    {
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
        {
            ["Jwt:MaxTokenLifetime"] = "00:20:00",
            ["Jwt:SessionTokenLifetime"] = "00:20:00",
        });
        var output = new StringWriter();
        var error = new StringWriter();

        var byDefault = TokenCommand.Run(node.Services, ["token", "--role", "admin", "--sub", Guid.NewGuid().ToString()], output, new StringWriter());
        var tooLong = TokenCommand.Run(node.Services, ["token", "--role", "admin", "--sub", Guid.NewGuid().ToString(), "--lifetime", "00:21:00"], new StringWriter(), error);

        Assert.Equal(0, byDefault);
        var jwt = new JsonWebToken(output.ToString().Trim());
        Assert.Equal(TimeSpan.FromMinutes(20), jwt.ValidTo - jwt.ValidFrom);
        Assert.Equal(2, tooLong);
        Assert.Contains("Jwt:MaxTokenLifetime (00:20:00)", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ASessionLifetimeLongerThanTheMaximumRefusesToStartNamingBothSettings()
    {
        var exception = Assert.ThrowsAny<OptionsValidationException>(() => ChatGrainsApp.Build(
        [
            "--urls=http://127.0.0.1:0",
            $"--Storage:SqlitePath={Path.Combine(Path.GetTempPath(), $"chatgrains-node-{Guid.NewGuid():N}", "chatgrains.db")}",
            "--Jwt:SessionTokenLifetime=2.00:00:00",
        ]));

        Assert.Contains("Jwt:SessionTokenLifetime", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Jwt:MaxTokenLifetime", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Roles.Visitor, "visitor+jwt")]
    [InlineData(Roles.Commercial, "JWT")]
    [InlineData(Roles.Admin, "JWT")]
    public void TheIssuerTypesEachTokenByItsRole(string role, string type)
    {
        var token = new JsonWebToken(Node.Token(role, Guid.NewGuid()));

        Assert.Equal(type, token.Typ);
        Assert.Equal(role, token.GetClaim("role").Value);
    }

    [Fact]
    public async Task AServiceThatExpectsStaffTokensRefusesAVisitorsToken()
    {
        // What another service trusting this issuer does when it checks typ (RFC 8725 §3.11).
        var jwks = new JsonWebKeySet(await Node.Client.GetStringAsync(new Uri("/.well-known/jwks.json", UriKind.Relative)));
        var staffOnly = new TokenValidationParameters
        {
            ValidIssuer = "chatgrains",
            ValidAudience = "chatgrains",
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = ["RS256"],
            ValidTypes = ["JWT"],
        };

        var visitor = await new JsonWebTokenHandler().ValidateTokenAsync(Node.Token(Roles.Visitor, Guid.NewGuid()), staffOnly);
        var admin = await new JsonWebTokenHandler().ValidateTokenAsync(Node.Token(Roles.Admin, Guid.NewGuid()), staffOnly);

        Assert.False(visitor.IsValid);
        Assert.IsType<SecurityTokenInvalidTypeException>(visitor.Exception);
        Assert.True(admin.IsValid, admin.Exception?.Message);
    }

    [Fact]
    public async Task TokensVerifyWithAStandardLibraryAgainstTheJwksDocument()
    {
        var token = Node.Token(Roles.Visitor, Guid.NewGuid());
        using var response = await Node.Client.GetAsync(new Uri("/.well-known/jwks.json", UriKind.Relative));
        var jwks = new JsonWebKeySet(await response.Content.ReadAsStringAsync());

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "chatgrains",
            ValidAudience = "chatgrains",
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = ["RS256"],
        });

        Assert.True(result.IsValid, result.Exception?.Message);
        var key = Assert.Single(jwks.Keys);
        Assert.Equal("RSA", key.Kty);
        Assert.Equal(new JsonWebToken(token).Kid, key.Kid);
        Assert.Null(key.D);
        Assert.Null(key.P);
    }

    [Fact]
    public async Task ASingleNodeKeepsItsGeneratedKeyPrivateAndAcrossRestarts()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"chatgrains-node-{Guid.NewGuid():N}");
        var settings = new Dictionary<string, string?> { ["Storage:SqlitePath"] = Path.Combine(folder, "chatgrains.db") };
        string token;
        await using (var first = await TestNode.StartAsync(settings, new SqliteTestDatabase(Path.Combine(folder, "chatgrains.db"))))
        {
            token = first.Token(Roles.Admin, Guid.NewGuid());
        }

        var keyFile = Path.Combine(folder, SigningKeys.GeneratedKeyFileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        await using var restarted = await TestNode.StartAsync(settings, new SqliteTestDatabase(Path.Combine(folder, "chatgrains.db")));
        using var client = new HttpClient { BaseAddress = restarted.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TokensSignedByARotatedOutKeyStillVerifyWhenThatKeyIsConfigured()
    {
        var oldKeyPath = Path.Combine(Path.GetTempPath(), $"chatgrains-old-key-{Guid.NewGuid():N}.pem");
        using var oldRsa = RSA.Create(2048);
        await File.WriteAllTextAsync(oldKeyPath, oldRsa.ExportSubjectPublicKeyInfoPem());
        var oldKey = new RsaSecurityKey(oldRsa) { KeyId = "old" };
        await using var node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?> { ["Jwt:VerificationKeyPaths:0"] = oldKeyPath });
        var oldToken = Tokens.Create(node, credentials: new SigningCredentials(oldKey, SecurityAlgorithms.RsaSha256));

        using var client = new HttpClient { BaseAddress = node.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", oldToken);
        using var response = await client.PutChatAsync(Guid.NewGuid(), ChatRequests.MinimalBody(Guid.NewGuid()));
        var jwks = new JsonWebKeySet(await node.Client.GetStringAsync(new Uri("/.well-known/jwks.json", UriKind.Relative)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, jwks.Keys.Count);
    }

    [Fact]
    public void AClusteredNodeWithoutASigningKeyRefusesToStartNamingTheSetting()
    {
        var exception = Assert.ThrowsAny<OptionsValidationException>(() => ChatGrainsApp.Build(
        [
            "--urls=http://127.0.0.1:0",
            "--ConnectionStrings:ChatGrains=Host=127.0.0.1;Port=1;Username=postgres",
        ]));

        Assert.Contains("Jwt:SigningKeyPath", exception.Message, StringComparison.Ordinal);
    }
}
