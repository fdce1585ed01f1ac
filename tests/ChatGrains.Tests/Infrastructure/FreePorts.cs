using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ChatGrains.Tests.Infrastructure;

/// <summary>Loopback ports nobody listens on, for servers that must be told their port up front.</summary>
public static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A silo port and a gateway port of its own for each node, so many nodes share one host.</summary>
    public static Dictionary<string, string?> ForSilo() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Orleans:SiloPort"] = Next().ToString(CultureInfo.InvariantCulture),
        ["Orleans:GatewayPort"] = Next().ToString(CultureInfo.InvariantCulture),
    };
}
