using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// Who "one client" is for every per-client limit (session endpoints, chat creation, failed
/// dashboard sign-ins): an IPv4 address, or the IPv6 network of
/// <see cref="RateLimitingOptions.IPv6PrefixLength"/> bits around the address, because one IPv6
/// subscriber holds a whole /64 and could otherwise take a fresh budget per address.
/// The address is <see cref="HttpContext.Connection"/>'s, i.e. after <see cref="TrustedProxies"/>.
/// </summary>
public sealed class ClientKeys(IOptions<RateLimitingOptions> options)
{
    public string Of(HttpContext http) => Of(http.Connection.RemoteIpAddress, options.Value.IPv6PrefixLength);

    /// <summary>"198.51.100.7" for IPv4 (also when IPv4-mapped); "2001:db8:1:1::/64" for IPv6.</summary>
    public static string Of(IPAddress? address, int ipv6PrefixLength)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        for (var bit = ipv6PrefixLength; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
        // A new address without the scope id: fe80::1%2 and fe80::1%3 are one client's network.
        return $"{new IPAddress(bytes)}/{ipv6PrefixLength}";
    }
}
