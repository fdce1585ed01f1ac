using System.Net;
using ChatGrains.ApiGateway.Http;

namespace ChatGrains.Tests.Unit;

public sealed class ClientKeysTests
{
    [Theory]
    [InlineData("2001:db8:1:1::1", 64, "2001:db8:1:1::/64")]
    [InlineData("2001:db8:1:1:ffff:ffff:ffff:ffff", 64, "2001:db8:1:1::/64")]
    [InlineData("2001:db8:1:2::1", 64, "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", 48, "2001:db8:1::/48")]
    [InlineData("2001:db8:1:1::1", 128, "2001:db8:1:1::1/128")]
    [InlineData("2001:db8:1:1:8000::1", 65, "2001:db8:1:1:8000::/65")]
    [InlineData("fe80::1%2", 64, "fe80::/64")]
    [InlineData("198.51.100.7", 64, "198.51.100.7")]
    [InlineData("::ffff:198.51.100.7", 64, "198.51.100.7")]
    public void AnIPv6ClientIsItsNetworkAndAnIPv4ClientItsAddress(string address, int prefixLength, string key) =>
        Assert.Equal(key, ClientKeys.Of(IPAddress.Parse(address), prefixLength));

    [Fact]
    public void NoAddressIsOneUnknownClient() => Assert.Equal("unknown", ClientKeys.Of(null, 64));
}
