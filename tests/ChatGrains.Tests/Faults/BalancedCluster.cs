using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Faults;

/// <summary>
/// How nginx treats a failing node. The defaults are a production-like balancer: retry an
/// idempotent request on the next node after a connection error, a timeout, a 502 or a 503,
/// and take a node out for 5 s after one failure (passive health check).
/// </summary>
/// <param name="Compose">
/// The containers' <c>deploy/nginx.conf</c> instead of the local template, its three node names
/// pointed at this cluster's nodes and its files in the cluster's folder: the same routing.
/// </param>
public sealed record BalancerOptions(string NextUpstream = "error timeout http_502 http_503", int MaxFails = 1, bool Compose = false);

/// <summary>
/// A deployment in miniature, for fault tests: a private, durable PostgreSQL server, three nodes as
/// real OS processes on it, and nginx in front of them, all on loopback. Each test owns one:
/// the tests kill nodes and stop the database. Disposal stops nginx and the nodes, and stops the
/// server with its database.
/// </summary>
public sealed class BalancedCluster : IAsyncDisposable
{
    public const string NginxPath = "/usr/sbin/nginx";

    private readonly List<NodeProcess> _nodes = [];
    private readonly string _directory;
    private Process? _nginx;
    private PostgresDatabase? _database;

    private BalancedCluster(PostgresServer server, string directory)
    {
        Server = server;
        _directory = directory;
    }

    public PostgresServer Server { get; }

    public PostgresDatabase Database => _database!;

    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    /// <summary>nginx's address: where the load goes.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>An admin token signed with the key the nodes share.</summary>
    public string AdminToken { get; } = TestKeys.IssueToken(Roles.Admin);

    /// <summary>What every node is started with.</summary>
    public IReadOnlyDictionary<string, string?> NodeSettings { get; private set; } = null!;

    /// <param name="settings">Node settings added to (or replacing) the cluster's own.</param>
    public static async Task<BalancedCluster> StartAsync(BalancerOptions? balancer = null, int nodeCount = 3, IReadOnlyDictionary<string, string?>? settings = null)
    {
        // Fail before starting anything when the balancer cannot be had.
        if (!File.Exists(NginxPath))
        {
            throw new InvalidOperationException(
                $"nginx was not found at {NginxPath}; the fault tests need it in front of the nodes. Install it: apt-get install -y nginx");
        }
        // Durable, as in production: a fault test's crash must not lose an acknowledged write.
        var server = await PostgresServer.StartNewAsync(durable: true);
        var directory = Path.Combine(Path.GetTempPath(), $"chatgrains-nginx-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var cluster = new BalancedCluster(server, directory);
        try
        {
            cluster._database = await server.CreateDatabaseAsync();
            var nodeSettings = new Dictionary<string, string?>
            {
                ["ConnectionStrings:ChatGrains"] = cluster.Database.ConnectionString,
                ["Jwt:SigningKeyPath"] = TestKeys.SigningKeyPath,
                // Every request comes from nginx on 127.0.0.1.
                ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
                ["RateLimiting:PermitsPerMinute"] = "100000000",
                ["RateLimiting:ChatCreationsPerMinute"] = "100000000",
                ["RateLimiting:VisitorChatsPerMinute"] = "100000000",
                ["Chats:MaxOpenPerVisitor"] = "100000000",
                ["Chats:MaxPendingPerClientAddress"] = "100000000",
                ["Hub:MessagesPerSecond"] = "100000000",
                ["Hub:MessageBurst"] = "100000000",
                ["Hub:MaxMessagesWhilePending"] = "100000000",
                ["Hub:MaxConnectionsPerUser"] = "100000000",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                nodeSettings[key] = value;
            }
            cluster.NodeSettings = nodeSettings;
            // Started together, as a deployment would.
            var nodes = await Task.WhenAll(Enumerable.Range(0, nodeCount).Select(_ => NodeProcess.StartAsync(cluster.NodeSettings)));
            cluster._nodes.AddRange(nodes);
            await cluster.StartNginxAsync(balancer ?? new BalancerOptions());
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the stopped node <paramref name="index"/> again on its port and waits until it is ready.</summary>
    public async Task<NodeProcess> RestartNodeAsync(int index)
    {
        var stopped = _nodes[index];
        var restarted = await stopped.RestartAsync();
        _nodes[index] = restarted;
        await stopped.DisposeAsync();
        return restarted;
    }

    /// <summary>A client of <paramref name="address"/> (nginx by default) that sends the admin token.</summary>
    public HttpClient CreateClient(Uri? address = null)
    {
        var client = new HttpClient { BaseAddress = address ?? Address, Timeout = TimeSpan.FromSeconds(15) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    /// <summary>
    /// Creates a chat through <paramref name="node"/> (straight to it: its grain lives there) with
    /// the admin token, for <paramref name="visitor"/> (a new one by default), offered to the
    /// commercial; returns the chat as the <c>PUT</c> answered.
    /// </summary>
    public async Task<JsonObject> CreateChatAsync(Uri node, Guid commercial, Guid? visitor = null)
    {
        using var client = CreateClient(node);
        var body = ChatRequests.MinimalBody(visitor ?? Guid.NewGuid());
        body["availableCommercialIds"] = new JsonArray(commercial.ToString());
        using var created = await client.PutChatAsync(Guid.NewGuid(), body);
        Assert.True(created.StatusCode == HttpStatusCode.OK, $"{(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return (await created.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>The balancer's own error log (upstream failures, retries), for a failing test's message.</summary>
    public string BalancerLog()
    {
        var path = Path.Combine(_directory, "error.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    /// <summary>Which nodes are still running, and each one's last log lines.</summary>
    public string NodesReport() => string.Join("\n", _nodes.Select((n, i) =>
        $"--- node {i + 1} (port {n.Port}, silo {n.SiloPort}): {(n.HasExited ? "exited" : "running")}\n{n.RecentLog()}"));

    private async Task StartNginxAsync(BalancerOptions balancer)
    {
        var port = FreePorts.Next();
        var configPath = Path.Combine(_directory, "nginx.conf");
        await File.WriteAllTextAsync(configPath, NginxConfig(port, balancer));

        var start = new ProcessStartInfo(NginxPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["-c", configPath, "-p", _directory, "-e", Path.Combine(_directory, "error.log"), "-g", "daemon off;"])
        {
            start.ArgumentList.Add(argument);
        }
        _nginx = Process.Start(start) ?? throw new InvalidOperationException("Cannot start nginx.");
        var stderr = _nginx.StandardError.ReadToEndAsync();
        _ = _nginx.StandardOutput.ReadToEndAsync();

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (_nginx.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {_nginx.ExitCode}: {await stderr}{BalancerLog()}");
            }
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                Address = new Uri($"http://127.0.0.1:{port}");
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException($"nginx did not listen on port {port}: {BalancerLog()}");
    }

    /// <summary>The configuration deploy/cluster.sh writes too, from the same template, with this test's balancer options.</summary>
    private string NginxConfig(int port, BalancerOptions balancer)
    {
        Directory.CreateDirectory(Path.Combine(_directory, "tmp"));
        if (balancer.Compose)
        {
            return ComposeNginxConfig(port);
        }
        var servers = string.Join('\n', _nodes.Select(n =>
            string.Create(CultureInfo.InvariantCulture, $"        server 127.0.0.1:{n.Port} max_fails={balancer.MaxFails} fail_timeout=5s;")));
        return File.ReadAllText(RepositoryPaths.Of("deploy", "nginx-local.conf.template"))
            .Replace("{{STATE}}", _directory, StringComparison.Ordinal)
            .Replace("{{USER}}", "", StringComparison.Ordinal)
            .Replace("{{ACCESS_LOG}}", "off", StringComparison.Ordinal)
            .Replace("{{MAX_FAILS}}", balancer.MaxFails.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{{SERVERS}}", servers, StringComparison.Ordinal)
            .Replace("{{PORT}}", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{{NEXT_UPSTREAM}}", balancer.NextUpstream, StringComparison.Ordinal);
    }

    /// <summary>
    /// deploy/nginx.conf as it would run in compose, but here: no user switch, no Docker DNS
    /// (<c>nodeN:8080 resolve</c> becomes node N's loopback address), loopback listener, files
    /// in the cluster's folder. Its upstreams and locations are left as they are.
    /// </summary>
    private string ComposeNginxConfig(int port)
    {
        if (_nodes.Count != 3)
        {
            throw new InvalidOperationException("deploy/nginx.conf names three nodes.");
        }
        var config = File.ReadAllText(RepositoryPaths.Of("deploy", "nginx.conf"));
        string Swap(string text, string from, string to) =>
            text.Contains(from, StringComparison.Ordinal)
                ? text.Replace(from, to, StringComparison.Ordinal)
                : throw new InvalidOperationException($"deploy/nginx.conf no longer has '{from}': adapt BalancedCluster.");
        for (var i = 0; i < 3; i++)
        {
            config = Swap(config, $"node{i + 1}:8080 resolve", string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{_nodes[i].Port}"));
        }
        config = Swap(config, "user nginx;", "");
        config = Swap(config, "resolver 127.0.0.11 valid=10s ipv6=off;", "");
        config = Swap(config, "error_log /dev/stderr warn;", $"error_log \"{_directory}/error.log\" warn;");
        config = Swap(config, "pid /tmp/nginx.pid;", $"pid \"{_directory}/nginx.pid\";");
        config = Swap(config, "access_log /dev/stdout noquery;", "access_log off;");
        config = Swap(config, "listen 80;", string.Create(CultureInfo.InvariantCulture, $"listen 127.0.0.1:{port};"));
        var temp = string.Concat(new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" }.Select(kind => $"\n    {kind}_temp_path \"{_directory}/tmp/{kind}\";"));
        return Swap(config, "http {", "http {" + temp);
    }

    public async ValueTask DisposeAsync()
    {
        if (_nginx is not null)
        {
            if (!_nginx.HasExited)
            {
                _nginx.Kill(entireProcessTree: true);
                await _nginx.WaitForExitAsync();
            }
            _nginx.Dispose();
        }
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        // The server is this cluster's alone: stopping it discards the database too (no DROP
        // needed, and none that could fail while a test left the server down).
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Leave it to the temp cleaner rather than fail a test run.
        }
    }

}
