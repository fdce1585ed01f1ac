using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ChatGrains.Tests.Infrastructure;

/// <summary>Loopback ports nobody listens on, for servers that must be told their port up front.</summary>
public static class FreePorts
{
    // A port is free when probed and taken only later, when its server binds. Ports from the
    // kernel's ephemeral range (what binding port 0 gives) can be taken meanwhile as the local
    // port of any outgoing connection — the suite opens thousands (Npgsql, HttpClient, silos) —
    // so ports are chosen below that range, where only an explicit bind takes one. Nodes start
    // in parallel, so never hand one out twice.
    private const int Lowest = 20_000;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> HandedOut = new();

    private static readonly int HighestExclusive = EphemeralRangeStart();

    private static int _next = Lowest + Random.Shared.Next(HighestExclusive - Lowest);

    public static int Next()
    {
        for (var tries = 0; tries < HighestExclusive - Lowest; tries++)
        {
            var port = Lowest + (int)((uint)Interlocked.Increment(ref _next) % (uint)(HighestExclusive - Lowest));
            if (!HandedOut.TryAdd(port, 0))
            {
                continue;
            }
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // Someone else's: try the next one (it stays marked, as it is not ours to hand out).
            }
        }
        throw new InvalidOperationException($"No free loopback port from {Lowest} to {HighestExclusive - 1}.");
    }

    /// <summary>A silo port and a gateway port of its own for each node, so many nodes share one host.</summary>
    public static Dictionary<string, string?> ForSilo() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Orleans:SiloPort"] = Next().ToString(CultureInfo.InvariantCulture),
        ["Orleans:GatewayPort"] = Next().ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The first port the kernel gives outgoing connections (Linux: ip_local_port_range), 32768 elsewhere.</summary>
    private static int EphemeralRangeStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        var first = File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], out var start)
            ? start
            : 32_768;
        // A machine tuned to a very wide ephemeral range still leaves room for the suite's servers.
        return Math.Max(first, Lowest + 5_000);
    }
}
