using System.Net;
using System.Net.Sockets;

namespace ChatGrains.ApiGateway.Webhooks;

/// <summary>
/// The addresses a webhook may not reach unless <c>Webhooks:AllowPrivateNetworks</c>: loopback,
/// private (RFC 1918), shared (RFC 6598), link-local (which holds the clouds' metadata services,
/// 169.254.169.254), unique-local (IPv6, which holds fd00:ec2::254), unspecified, multicast and
/// reserved ranges — also when wrapped in an IPv4-mapped, NAT64 or 6to4 IPv6 address.
/// </summary>
public static class WebhookAddresses
{
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return IsInternal(address.MapToIPv4());
        }
        var b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return b[0] is 0 or 10 or 127 or >= 224
                   || (b[0] == 100 && b[1] is >= 64 and <= 127)
                   || (b[0] == 169 && b[1] == 254)
                   || (b[0] == 172 && b[1] is >= 16 and <= 31)
                   || (b[0] == 192 && b[1] == 168)
                   || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
                   || (b[0] == 198 && b[1] is 18 or 19)
                   || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                   || (b[0] == 203 && b[1] == 0 && b[2] == 113);
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return true;
        }
        // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address a gateway would reach.
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..12].All(x => x == 0))
        {
            return IsInternal(new IPAddress(b[12..16]));
        }
        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return IsInternal(new IPAddress(b[2..6]));
        }
        return IPAddress.IsLoopback(address)
               || address.Equals(IPAddress.IPv6Any)
               || address.IsIPv6LinkLocal
               || address.IsIPv6SiteLocal
               || address.IsIPv6Multicast
               || (b[0] & 0xfe) == 0xfc
               || b.Take(15).All(x => x == 0); // ::1, ::, and the deprecated IPv4-compatible form
    }

    /// <summary>
    /// The addresses the host resolves to, or why it may not be called: checked before any
    /// connection is attempted, at registration and again at each connection (a name that
    /// resolved outside at registration may resolve inside later).
    /// </summary>
    public static async Task<(IPAddress[] Addresses, string? Refusal)> ResolveAsync(string host, bool allowPrivate, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
            }
            catch (SocketException)
            {
                return ([], "its host name does not resolve");
            }
        }
        if (addresses.Length == 0)
        {
            return ([], "its host name does not resolve");
        }
        return !allowPrivate && addresses.Any(IsInternal)
            ? ([], "its host is or resolves to a loopback, private, link-local, unique-local or metadata address")
            : (addresses, null);
    }
}
