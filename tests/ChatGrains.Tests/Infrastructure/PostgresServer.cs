using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ChatGrains.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL server started from the machine's server binaries: its own data
/// folder, a random loopback port, no unix socket. When the process runs as root the server
/// runs as the <c>postgres</c> OS user (initdb refuses root).
/// <para>
/// <c>CHATGRAINS_TEST_POSTGRES</c> may name an existing server instead (an Npgsql connection
/// string with rights to create databases); by default one is started for the test run.
/// Tests that need PostgreSQL fail, never skip, when it cannot be had.
/// </para>
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string EnvironmentVariable = "CHATGRAINS_TEST_POSTGRES";

    private static readonly Lazy<Task<PostgresServer>> SharedServer = new(StartSharedAsync);
    private readonly string? _root;
    private readonly string? _binDirectory;

    private PostgresServer(string adminConnectionString, string? root, string? binDirectory)
    {
        AdminConnectionString = adminConnectionString;
        _root = root;
        _binDirectory = binDirectory;
    }

    public string AdminConnectionString { get; }

    private string DataDirectory => Path.Combine(_root!, "data");

    /// <summary>One server for the whole test run; each fixture takes its own database on it.</summary>
    public static Task<PostgresServer> Shared => SharedServer.Value;

    private static async Task<PostgresServer> StartSharedAsync()
    {
        var existing = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(existing))
        {
            return new PostgresServer(existing, root: null, binDirectory: null);
        }
        var server = await StartNewAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return server;
    }

    /// <summary>A private server, for tests that stop and restart it.</summary>
    /// <param name="durable">
    /// Commits flushed to disk before they are acknowledged (<c>fsync</c>, <c>synchronous_commit</c>,
    /// <c>full_page_writes</c> on), as in production: what a crash (<see cref="CrashAsync"/>) must not lose.
    /// </param>
    public static async Task<PostgresServer> StartNewAsync(bool durable = false)
    {
        var binDirectory = FindBinDirectory();
        var root = Path.Combine(Path.GetTempPath(), $"chatgrains-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var port = FreePorts.Next();
        var server = new PostgresServer(
            // Unpooled: tests restart servers, and a pooled admin connection would outlive one.
            $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=5;Command Timeout=30;Pooling=false",
            root, binDirectory);
        try
        {
            if (IsRoot)
            {
                // The postgres user must traverse the folder and own its data.
                File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                await RunAsync("chown", ["postgres:postgres", root], asPostgres: false);
            }
            await server.RunServerToolAsync("initdb", ["-D", server.DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
            server.Port = port;
            server.Durable = durable;
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private int Port { get; set; }

    public bool Durable { get; private set; }

    public async Task StartAsync()
    {
        // Most tests trade durability for speed; the fault tests' servers and benchmarks do not.
        var durability = Durable ? "-c fsync=on -c synchronous_commit=on -c full_page_writes=on" : "-c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        var options = $"-c listen_addresses=127.0.0.1 -p {Port} -c unix_socket_directories='' -c max_connections=500 " +
                      $"{durability} -c shared_buffers=128MB";
        await RunServerToolAsync("pg_ctl", ["start", "-D", DataDirectory, "-w", "-t", "60", "-l", Path.Combine(_root!, "server.log"), "-o", options]);
    }

    /// <summary>Stops the server (fast shutdown: open connections are cut).</summary>
    public Task StopAsync() =>
        RunServerToolAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60"]);

    /// <summary>
    /// Kills the server as a crash does (immediate shutdown: every process quits at once, no
    /// checkpoint, nothing flushed that was not already); its next start recovers from the WAL.
    /// </summary>
    public Task CrashAsync() =>
        RunServerToolAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "60"]);

    /// <summary>A new empty database on this server; dropped (WITH FORCE) when disposed.</summary>
    public async Task<PostgresDatabase> CreateDatabaseAsync()
    {
        var name = $"chatgrains_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true };
        return new PostgresDatabase(this, name, builder.ConnectionString);
    }

    internal async Task DropDatabaseAsync(string name)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_root is null)
        {
            return;
        }
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            try
            {
                await RunServerToolAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "30"]);
            }
            catch (InvalidOperationException)
            {
                // Already stopped.
            }
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Leave it to the temp cleaner rather than fail a test run.
        }
    }

    private Task RunServerToolAsync(string tool, IReadOnlyList<string> arguments) =>
        RunAsync(Path.Combine(_binDirectory!, tool), arguments, asPostgres: IsRoot);

    private static bool IsRoot => Environment.UserName == "root";

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var a in (string[])["-u", "postgres", "--", program])
            {
                start.ArgumentList.Add(a);
            }
        }
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        }
    }

    private static string FindBinDirectory()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .ToList()
            : [];
        return candidates.FirstOrDefault() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries were not found under /usr/lib/postgresql/*/bin. " +
            "Install them (apt-get install -y postgresql) or set " + EnvironmentVariable + " to a server's connection string.");
    }

}

/// <summary>One test fixture's database.</summary>
public sealed partial class PostgresDatabase(PostgresServer server, string name, string connectionString) : IAsyncDisposable
{
    /// <summary>What a node is given (pooled).</summary>
    public string ConnectionString { get; } = connectionString;

    /// <summary>What the test's own checks use: unpooled, so a server restart leaves nothing stale.</summary>
    private string ProbeConnectionString { get; } = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        await server.DropDatabaseAsync(name);
    }
}
