using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ChatGrains.Tests.Infrastructure;

/// <summary>Loopback ports nobody listens on, for servers that must be told their port up front.</summary>
public static class FreePorts
{
    // The kernel may hand the same free port to two callers once the first probe socket is
    // closed and before its server binds; nodes start in parallel, so never hand one out twice.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> HandedOut = new();

    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (HandedOut.TryAdd(port, 0))
            {
                return port;
            }
        }
    }

    /// <summary>A silo port and a gateway port of its own for each node, so many nodes share one host.</summary>
    public static Dictionary<string, string?> ForSilo() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Orleans:SiloPort"] = Next().ToString(CultureInfo.InvariantCulture),
        ["Orleans:GatewayPort"] = Next().ToString(CultureInfo.InvariantCulture),
    };
}
