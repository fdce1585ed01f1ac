using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ChatGrains.Tests.Infrastructure;

/// <summary>
/// A node as its own OS process (the built ApiGateway beside the tests), for what an
/// in-process node cannot do: die by SIGKILL, with no shutdown code run at all, or stop on
/// SIGTERM as a service manager stops it and report its exit code.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly IReadOnlyDictionary<string, string?> _settings;

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log;

    private NodeProcess(Process process, Uri baseAddress, int port, IReadOnlyDictionary<string, string?> settings, System.Collections.Concurrent.ConcurrentQueue<string> log)
    {
        _log = log;
        _process = process;
        BaseAddress = baseAddress;
        Port = port;
        _settings = settings;
    }

    public Uri BaseAddress { get; }

    /// <summary>The loopback port the node listens on (kept by <see cref="RestartAsync"/>).</summary>
    public int Port { get; }

    /// <summary>The port of its silo (kept by <see cref="RestartAsync"/>).</summary>
    public int SiloPort => int.Parse(_settings["Orleans:SiloPort"]!, CultureInfo.InvariantCulture);

    /// <summary>The OS process id (the <c>dotnet</c> host, which is the node itself).</summary>
    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The node's last log lines (it logs warnings and errors), for a failing test's message.</summary>
    public string RecentLog() => string.Join('\n', _log);

    /// <summary>A node on a free loopback port, its silo on free ports of its own.</summary>
    public static Task<NodeProcess> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var all = FreePorts.ForSilo();
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }
        return StartAsync(all, FreePorts.Next());
    }

    /// <summary>A node on the given loopback port, started and waited for until ready.</summary>
    public static async Task<NodeProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, int port)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ApiGateway.dll"));
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        start.ArgumentList.Add("--Logging:LogLevel:Default=Warning");
        foreach (var (key, value) in settings.Where(s => s.Value is not null))
        {
            start.ArgumentList.Add($"--{key}={value}");
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("Cannot start the node process.");
        // Drain the pipes so a chatty node never blocks on a full buffer; keep the last lines
        // (warnings and errors: the node logs at Warning) for a failing test's message.
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }
            log.Enqueue(line);
            while (log.Count > 200 && log.TryDequeue(out _))
            {
            }
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var node = new NodeProcess(process, new Uri($"http://127.0.0.1:{port}"), port, settings, log);
        using var client = new HttpClient { BaseAddress = node.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));
                if (ready.IsSuccessStatusCode)
                {
                    return node;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        await node.DisposeAsync();
        throw new TimeoutException($"The node process on port {port} did not become ready.");
    }

    /// <summary>A new process with the same settings on the same port (it registers under a new node id).</summary>
    public Task<NodeProcess> RestartAsync()
    {
        if (!_process.HasExited)
        {
            throw new InvalidOperationException($"The node on port {Port} is still running; stop it first.");
        }
        return StartAsync(_settings, Port);
    }

    /// <summary>SIGKILL: the process ends mid-flight, without marking itself left.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>
    /// SIGTERM, as <c>kill -TERM</c> or a service manager sends it: waits for the process to
    /// exit and returns its exit code. Throws <see cref="TimeoutException"/> (and kills it)
    /// when it has not exited within <paramref name="timeout"/>.
    /// </summary>
    public async Task<int> TerminateAsync(TimeSpan? timeout = null)
    {
        var kill = new ProcessStartInfo("kill") { UseShellExecute = false };
        kill.ArgumentList.Add("-TERM");
        kill.ArgumentList.Add(_process.Id.ToString(CultureInfo.InvariantCulture));
        using (var sender = Process.Start(kill) ?? throw new InvalidOperationException("Cannot run kill."))
        {
            await sender.WaitForExitAsync();
            if (sender.ExitCode != 0)
            {
                throw new InvalidOperationException($"kill -TERM {_process.Id} exited with {sender.ExitCode}.");
            }
        }
        using var wait = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new TimeoutException($"The node on port {Port} did not exit within {timeout ?? TimeSpan.FromSeconds(30)} of SIGTERM.");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }
        _process.Dispose();
    }

}
