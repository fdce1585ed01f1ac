using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Net.Sockets;
using ChatGrains.ApiGateway;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Silo;
using ChatGrains.Silo.Sqlite;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ChatGrains.Tests.Storage;

/// <summary>
/// What a single node keeps in its data folder (the database, the signing key, the data protection
/// keys) is readable by the node's own user only, and the generated key is never half written.
/// </summary>
public sealed class DataFolderTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateFolder = Private | UnixFileMode.UserExecute;

    private const UnixFileMode Shared = Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private static string NewFolder() => Path.Combine(Path.GetTempPath(), $"chatgrains-data-{Guid.NewGuid():N}", "data");

    [Fact]
    public async Task ANodeCreatesItsDataFolderAndFilesForItsOwnUserOnly()
    {
        var folder = NewFolder();
        var database = Path.Combine(folder, "chatgrains.db");
        await using var node = await TestNode.StartAsync(new Dictionary<string, string?> { ["Storage:SqlitePath"] = database }, new SqliteTestDatabase(database));

        // A write, so the WAL and shared-memory files exist while the node holds its connections.
        using var created = await node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() });

        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(PrivateFolder, File.GetUnixFileMode(folder));
        Assert.Equal(PrivateFolder, File.GetUnixFileMode(Path.Combine(folder, "keys")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(folder, "keys"), "*.xml"));
        foreach (var file in new[] { database, database + "-wal", database + "-shm", Path.Combine(folder, SigningKeys.GeneratedKeyFileName) })
        {
            Assert.True(File.Exists(file), $"{file} is missing");
            Assert.Equal(Private, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public async Task AnExistingDatabaseOpenToOthersInItsPrivateDataFolderIsMadePrivateAtStart()
    {
        var folder = NewFolder();
        var database = Path.Combine(folder, "chatgrains.db");
        Directory.CreateDirectory(folder, PrivateFolder);
        await File.WriteAllBytesAsync(database, []);
        File.SetUnixFileMode(database, Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        await using var node = await TestNode.StartAsync(new Dictionary<string, string?> { ["Storage:SqlitePath"] = database }, new SqliteTestDatabase(database));

        Assert.Equal(Private, File.GetUnixFileMode(database));
    }

    [Fact]
    public void AnExistingDatabaseOpenToOthersInAFolderOpenToOthersKeepsItsModeAndIsReported()
    {
        var folder = NewFolder();
        var database = Path.Combine(folder, "chatgrains.db");
        Directory.CreateDirectory(folder, PrivateFolder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.WriteAllBytes(database, []);
        File.SetUnixFileMode(database, Shared);
        using var logs = new LogCapture();
        using var logging = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));

        _ = new SqliteStorage(database, logging.CreateLogger<SqliteStorage>());

        Assert.Equal(Shared, File.GetUnixFileMode(database));
        var warning = Assert.Single(logs.Lines, line => line.StartsWith("Warning", StringComparison.Ordinal));
        Assert.Contains(database, warning, StringComparison.Ordinal);
        Assert.Contains("644", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-wal")]
    [InlineData("-shm")]
    public void ADatabaseFileThatIsASymbolicLinkIsRefusedAndItsTargetKeepsItsMode(string suffix)
    {
        var folder = NewFolder();
        Directory.CreateDirectory(folder, PrivateFolder);
        var database = Path.Combine(folder, "chatgrains.db");
        var target = SharedFileOutside();
        File.CreateSymbolicLink(database + suffix, target);

        var refused = Assert.Throws<InvalidOperationException>(() => new SqliteStorage(database, NullLogger<SqliteStorage>.Instance));

        Assert.Equal($"Storage:SqlitePath: '{database + suffix}' is a symbolic link; name the file itself.", refused.Message);
        Assert.Equal(Shared, File.GetUnixFileMode(target));
    }

    [Theory]
    [InlineData("folder")]
    [InlineData("socket")]
    public void ADatabasePathThatIsNotARegularFileIsRefused(string kind)
    {
        var folder = NewFolder();
        Directory.CreateDirectory(folder, PrivateFolder);
        var database = Path.Combine(folder, "chatgrains.db");
        // A socket stands for any special file: chmod on /dev/null itself would break the machine when run without the fix.
        using var special = CreateSpecialFile(database, kind);

        var refused = Assert.Throws<InvalidOperationException>(() => new SqliteStorage(database, NullLogger<SqliteStorage>.Instance));

        Assert.Equal($"Storage:SqlitePath: '{database}' is not a regular file.", refused.Message);
    }

    [Fact]
    public void AConfiguredSigningKeyThatIsASymbolicLinkRefusesToStartAndItsTargetKeepsItsMode()
    {
        var target = SharedFileOutside();
        using (var rsa = RSA.Create(2048))
        {
            File.WriteAllText(target, rsa.ExportPkcs8PrivateKeyPem());
        }
        var link = Path.Combine(Path.GetTempPath(), $"chatgrains-key-link-{Guid.NewGuid():N}.pem");
        File.CreateSymbolicLink(link, target);

        var refused = Assert.Throws<InvalidOperationException>(() => ChatGrainsApp.Build(
        [
            "--urls=http://127.0.0.1:0",
            $"--Storage:SqlitePath={Path.Combine(NewFolder(), "chatgrains.db")}",
            $"--Jwt:SigningKeyPath={link}",
        ]));

        Assert.Equal($"Jwt:SigningKeyPath: '{link}' is a symbolic link; name the file itself.", refused.Message);
        Assert.Equal(Shared, File.GetUnixFileMode(target));
    }

    [Theory]
    [InlineData("/dev/null")]
    [InlineData("/tmp")]
    public void AConfiguredSigningKeyThatIsNotARegularFileIsRefused(string path)
    {
        var refused = Assert.Throws<InvalidOperationException>(() => new SigningKeys(Jwt(path), Storage(NewFolder()), NullLogger<SigningKeys>.Instance));

        Assert.Equal($"Jwt:SigningKeyPath: '{path}' is not a regular file.", refused.Message);
    }

    [Fact]
    public void AGeneratedKeyPathThatIsASymbolicLinkIsRefusedAndItsTargetKeepsItsMode()
    {
        var folder = NewFolder();
        Directory.CreateDirectory(folder, PrivateFolder);
        var target = SharedFileOutside();
        var key = Path.Combine(folder, SigningKeys.GeneratedKeyFileName);
        File.CreateSymbolicLink(key, target);

        var refused = Assert.Throws<InvalidOperationException>(() => new SigningKeys(Jwt(null), Storage(folder), NullLogger<SigningKeys>.Instance));

        Assert.Equal($"Jwt:SigningKeyPath: '{key}' is a symbolic link; name the file itself.", refused.Message);
        Assert.Equal(Shared, File.GetUnixFileMode(target));
    }

    [Fact]
    public void AConfiguredSigningKeyOpenToOthersIsWarnedAboutByPathNeverByContent()
    {
        var path = Path.Combine(Path.GetTempPath(), $"chatgrains-open-key-{Guid.NewGuid():N}.pem");
        using var rsa = RSA.Create(2048);
        var pem = rsa.ExportPkcs8PrivateKeyPem();
        File.WriteAllText(path, pem);
        File.SetUnixFileMode(path, Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var logs = new LogCapture();
        using var logging = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));

        _ = new SigningKeys(Jwt(path), Storage(NewFolder()), logging.CreateLogger<SigningKeys>());

        Assert.Equal(Shared, File.GetUnixFileMode(path));
        var warning = Assert.Single(logs.Lines, line => line.StartsWith("Warning", StringComparison.Ordinal));
        Assert.Contains(path, warning, StringComparison.Ordinal);
        Assert.Contains("644", warning, StringComparison.Ordinal);
        var body = pem.Split('\n')[1];
        Assert.All(logs.Lines, line => Assert.DoesNotContain(body, line, StringComparison.Ordinal));
    }

    [Fact]
    public void APrivateConfiguredSigningKeyStartsWithoutAWarning()
    {
        var path = Path.Combine(Path.GetTempPath(), $"chatgrains-private-key-{Guid.NewGuid():N}.pem");
        using var rsa = RSA.Create(2048);
        File.WriteAllText(path, rsa.ExportPkcs8PrivateKeyPem());
        File.SetUnixFileMode(path, Private);
        using var logs = new LogCapture();
        using var logging = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));

        _ = new SigningKeys(Jwt(path), Storage(NewFolder()), logging.CreateLogger<SigningKeys>());

        Assert.DoesNotContain(logs.Lines, line => line.StartsWith("Warning", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NodesStartingTogetherOnOneDataFolderEndUpWithTheSameWholeKey()
    {
        for (var round = 0; round < 5; round++)
        {
            var folder = NewFolder();
            using var start = new Barrier(8);

            var keys = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                return new SigningKeys(Jwt(null), Storage(folder), NullLogger<SigningKeys>.Instance).SigningKey.KeyId;
            })));

            Assert.Single(keys.Distinct());
            Assert.Equal([SigningKeys.GeneratedKeyFileName], Directory.GetFiles(folder).Select(Path.GetFileName));
            Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(folder, SigningKeys.GeneratedKeyFileName)));
            Assert.Equal(PrivateFolder, File.GetUnixFileMode(folder));
        }
    }

    /// <summary>A file some other program owns, readable by everyone, outside any data folder.</summary>
    private static string SharedFileOutside()
    {
        var path = Path.Combine(Path.GetTempPath(), $"chatgrains-shared-{Guid.NewGuid():N}");
        File.WriteAllText(path, "not the node's");
        File.SetUnixFileMode(path, Shared);
        return path;
    }

    private static Socket? CreateSpecialFile(string path, string kind)
    {
        if (kind == "folder")
        {
            Directory.CreateDirectory(path);
            return null;
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    private static IOptions<JwtOptions> Jwt(string? signingKeyPath) => Options.Create(new JwtOptions { SigningKeyPath = signingKeyPath });

    private static IOptions<StorageOptions> Storage(string folder) =>
        Options.Create(new StorageOptions { SqlitePath = Path.Combine(folder, "chatgrains.db") });
}
