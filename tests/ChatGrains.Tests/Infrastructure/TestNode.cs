using System.Net.Http.Headers;
using System.Security.Cryptography;
using ChatGrains.ApiGateway;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatGrains.Tests.Infrastructure;

/// <summary>
/// A real node: the service's own composition (<see cref="ChatGrainsApp"/>) on Kestrel, bound
/// to a random loopback port, reached over real HTTP.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _starting;

    private TestNode(WebApplication app, CancellationTokenSource starting, Uri baseAddress, ITestDatabase database)
    {
        _app = app;
        _starting = starting;
        BaseAddress = baseAddress;
        Database = database;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public ITestDatabase Database { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The node's own grain factory (its co-hosted silo).</summary>
    public IGrainFactory Grains => Services.GetRequiredService<IGrainFactory>();

    /// <summary>The setting that gives a test node its meter provider and <c>/metrics</c>.</summary>
    public static readonly KeyValuePair<string, string?> MetricsOn = new("Metrics:Enabled", "true");

    /// <summary>A node on its own SQLite file in a fresh temp folder.</summary>
    public static Task<TestNode> StartOnSqliteAsync(IReadOnlyDictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"chatgrains-node-{Guid.NewGuid():N}");
        var path = Path.Combine(folder, "chatgrains.db");
        return StartAsync(new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Storage:SqlitePath"] = path,
        }, new SqliteTestDatabase(path), configure: configure);
    }

    /// <summary>A node on a PostgreSQL database, signing with the key every test node shares.</summary>
    public static Task<TestNode> StartOnPostgresAsync(PostgresDatabase database, IReadOnlyDictionary<string, string?>? settings = null) =>
        StartAsync(new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["ConnectionStrings:ChatGrains"] = database.ConnectionString,
            ["Jwt:SigningKeyPath"] = TestKeys.SigningKeyPath,
        }, database);

    public static async Task<TestNode> StartAsync(IReadOnlyDictionary<string, string?> settings, ITestDatabase database, bool waitUntilReady = true, Action<WebApplicationBuilder>? configure = null)
    {
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            // Every test comes from 127.0.0.1 (and many reuse one token or visitor): only the
            // rate limit and cap tests set real limits.
            ["RateLimiting:PermitsPerMinute"] = "1000000",
            ["RateLimiting:ChatCreationsPerMinute"] = "1000000",
            ["RateLimiting:VisitorChatsPerMinute"] = "1000000",
            ["Chats:MaxOpenPerVisitor"] = "1000000",
            ["Chats:MaxPendingPerClientAddress"] = "1000000",
            ["Hub:MessagesPerSecond"] = "1000000",
            ["Hub:MessageBurst"] = "1000000",
            ["Hub:MaxMessagesWhilePending"] = "1000000",
            ["Hub:MaxConnectionsPerUser"] = "1000000",
            // A limiter that is merely slow must still decide where a test counts exactly: the
            // in-process test host pauses for GC longer than the production 1 s at times on a
            // busy 2-core machine. Fail-open on a dead limiter is tested with its own wait.
            ["RateLimiting:LimiterAnswerWait"] = "00:00:10",
            // Off unless a test reads /metrics (MetricsOn): a meter provider listens to every
            // meter of its names in the process, so each in-process node's would aggregate every
            // other node's meters and keep their series until a scrape, and the test host's
            // memory would grow with the square of the nodes (13.8 GB at the peak of a run).
            ["Metrics:Enabled"] = "false",
        };
        foreach (var (key, value) in FreePorts.ForSilo())
        {
            all[key] = value;
        }
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }
        var app = ChatGrainsApp.Build([.. all.Where(s => s.Value is not null).Select(s => $"--{s.Key}={s.Value}")], builder =>
        {
            WithoutEventSourceLogging(builder.Services);
            configure?.Invoke(builder);
        });
        var starting = new CancellationTokenSource();
        // Kestrel listens before the silo has joined (which waits for the database): the host's
        // start completes only then, so a node whose database is down is reached while it starts.
        var started = app.StartAsync(starting.Token);
        var node = new TestNode(app, starting, await ListeningAddressAsync(app, started), database);
        if (waitUntilReady)
        {
            await started;
            await node.WaitUntilReadyAsync();
        }
        return node;
    }

    /// <summary>
    /// Removes the EventSource logger that every host gets by default. Its filters follow a
    /// process-wide event source, whose change token keeps a callback into each host's logging
    /// options that disposing the host does not remove: in a process that starts hundreds of
    /// hosts, as this suite does, every one of them (silo, grains, caches) stayed reachable.
    /// A node process has one host and keeps it.
    /// </summary>
    public static void WithoutEventSourceLogging(IServiceCollection services)
    {
        var eventSourceLogging = typeof(Microsoft.Extensions.Logging.EventSource.EventSourceLoggerProvider).Assembly;
        foreach (var descriptor in services.Where(d => d.ImplementationType?.Assembly == eventSourceLogging).ToList())
        {
            services.Remove(descriptor);
        }
    }

    private static async Task<Uri> ListeningAddressAsync(WebApplication app, Task started)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? url;
        while ((url = app.Urls.FirstOrDefault(u => !u.EndsWith(":0", StringComparison.Ordinal))) is null)
        {
            if (started.IsFaulted)
            {
                await started;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The node's Kestrel did not start listening.");
            }
            await Task.Delay(20);
        }
        return new Uri(url);
    }

    public async Task WaitUntilReadyAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                using var response = await Client.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Node {BaseAddress} did not become ready.");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Deactivates every idle grain of the node's cluster: the next call reads its record from storage.</summary>
    public Task CollectIdleGrainsAsync() => Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

    /// <summary>A token signed by this node's key.</summary>
    public string Token(string role, Guid subject, TimeSpan? lifetime = null) =>
        Services.GetRequiredService<TokenIssuer>().Issue(subject.ToString(), role, lifetime ?? TimeSpan.FromMinutes(10));

    /// <summary>A client whose requests carry a token for the role and subject.</summary>
    public HttpClient ClientFor(string role, Guid? subject = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(role, subject ?? Guid.NewGuid()));
        return client;
    }

    /// <summary>Graceful stop: in-flight requests finish, hosted services stop.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _starting.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _starting.Dispose();
    }
}

/// <summary>The RSA key every PostgreSQL test node signs with, as the nodes of one cluster do.</summary>
public static class TestKeys
{
    private static readonly Lazy<string> Path_ = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"chatgrains-test-key-{Guid.NewGuid():N}.pem");
        using var rsa = RSA.Create(2048);
        File.WriteAllText(path, rsa.ExportPkcs8PrivateKeyPem());
        return path;
    });

    public static string SigningKeyPath => Path_.Value;

    /// <summary>Signed by the service's own issuer with that key, as the <c>token</c> command does.</summary>
    public static string IssueToken(string role, Guid? subject = null)
    {
        var jwt = Options.Create(new JwtOptions { SigningKeyPath = SigningKeyPath });
        var keys = new SigningKeys(jwt, Options.Create(new StorageOptions()), Microsoft.Extensions.Logging.Abstractions.NullLogger<SigningKeys>.Instance);
        return new TokenIssuer(keys, jwt, TimeProvider.System).Issue((subject ?? Guid.NewGuid()).ToString(), role, TimeSpan.FromMinutes(30));
    }

    /// <summary>A copy of the key in <paramref name="folder"/>, readable by its owner only, as a node process expects (else a warning).</summary>
    public static string CopyInto(DirectoryInfo folder)
    {
        var key = Path.Combine(folder.FullName, "signing-key.pem");
        File.Copy(SigningKeyPath, key);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return key;
    }
}
