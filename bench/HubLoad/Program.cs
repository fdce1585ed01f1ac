using System.Diagnostics;
using System.Globalization;
using ChatGrains.Bench.HubLoad;

// bench/run.sh hub's load generator: N conversations on /hubs/livechat, then messages at fixed
// rates (see Options.Usage and Load).
Options options;
try
{
    options = Options.Parse(args);
}
catch (ArgumentException exception)
{
    await Console.Error.WriteLineAsync($"{exception.Message}\n\n{Options.Usage}");
    return 2;
}

// Bounded whatever happens: a stuck node must not keep the benchmark running.
_ = Task.Delay(options.Deadline).ContinueWith(_ =>
{
    Console.Error.WriteLine($"[hubload] deadline of {options.Deadline.TotalSeconds} s reached: exiting");
    Environment.Exit(3);
}, TaskScheduler.Default);

// Many connections are opened at once during setup: do not wait for the pool to grow.
ThreadPool.GetMinThreads(out var workers, out var io);
ThreadPool.SetMinThreads(Math.Max(workers, 32), io);

var http = options.Nodes.Select(node => new HttpClient { BaseAddress = node, Timeout = TimeSpan.FromSeconds(30) }).ToList();
using var tokens = await CommercialTokens.CreateAsync(options.KeyPath, http[0], options.Issuer, options.Audience);
var load = new Load(options);
var setup = new ConversationSetup(options, http, tokens, load.OnMessage, load.OnResync, load.OnClosed);

await Console.Error.WriteLineAsync($"[hubload] setting up {options.Conversations} conversations on {options.Nodes.Count} node(s): {string.Join(' ', options.Nodes)}");
var setupClock = Stopwatch.StartNew();
var conversations = await setup.SetUpAsync(CancellationToken.None);
var setupTime = setupClock.Elapsed;
load.Use(conversations);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"SETUP conversations={conversations.Length} connections={conversations.Length * 2} nodes={options.Nodes.Count} setup_s={setupTime.TotalSeconds:F1} retries={setup.Retries}"));

var clean = true;
foreach (var rate in options.Rates)
{
    if (options.Warmup > TimeSpan.Zero)
    {
        await Console.Error.WriteLineAsync($"[hubload] {rate} msg/s: warm-up {options.Warmup.TotalSeconds} s");
        var warm = await load.RunPhaseAsync("warmup", rate, options.Warmup);
        Console.WriteLine(warm.Line);
    }
    var name = string.Create(CultureInfo.InvariantCulture, $"rate-{rate}");
    // Unmeasured: a full compacting collection now, so the measured phase does not pay for
    // promoting everything setup and warm-up left in gen0 (measured: one ~250 ms pause in the
    // first 30 s phase otherwise, which delayed ~1 % of the messages by up to that much).
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    Sync("start", name);
    await Console.Error.WriteLineAsync($"[hubload] {rate} msg/s: measured {options.Duration.TotalSeconds} s");
    var result = await load.RunPhaseAsync(name, rate, options.Duration);
    Sync("end", name);
    Console.WriteLine(result.Line);
    clean &= result.Clean;
    if (options.StopP99Ms is { } stop && (!result.Clean || !(result.P99Ms <= stop)))
    {
        await Console.Error.WriteLineAsync($"[hubload] {rate} msg/s: p99 {result.P99Ms} ms (limit {stop}), clean={result.Clean}: the ramp stops here");
        break;
    }
}

Console.WriteLine(load.FinalLine(setupTime, setup.Retries));
foreach (var sample in load.ErrorSamples)
{
    await Console.Error.WriteLineAsync($"[hubload] error sample: {sample}");
}

load.TearingDown();
using (var gate = new SemaphoreSlim(64))
{
    await Task.WhenAll(conversations.SelectMany(c => new[] { c.Visitor.Connection, c.Commercial.Connection }).Select(async connection =>
    {
        await gate.WaitAsync();
        try
        {
            await connection.DisposeAsync();
        }
        finally
        {
            gate.Release();
        }
    }));
}
foreach (var client in http)
{
    client.Dispose();
}
return clean ? 0 : 1;

// With --sync: tell bench/run.sh hub and wait for its go-ahead (a line on stdin).
void Sync(string what, string name)
{
    if (!options.Sync)
    {
        return;
    }
    Console.WriteLine($"SYNC {what} {name}");
    Console.Out.Flush();
    _ = Console.In.ReadLine();
}
