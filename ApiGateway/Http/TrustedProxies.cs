using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// The client address for rate limits and logs: <c>X-Forwarded-For</c> is believed only from the
/// proxies in <c>ForwardedHeaders:KnownProxies</c>. ASP.NET's middleware trusts any peer when its
/// lists are empty (and loopback by default), so it runs only with a configured list, and only that.
/// </summary>
public static class TrustedProxies
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, IConfiguration configuration)
    {
        var proxies = Parse(configuration.GetSection("ForwardedHeaders:KnownProxies").Get<string[]>() ?? []);
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // The obsolete list still holds the loopback default and is still honoured.
            options.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            foreach (var proxy in proxies)
            {
                options.KnownProxies.Add(proxy);
            }
        });
        return services;
    }

    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ForwardedHeadersOptions>>().Value;
        return options.KnownProxies.Count > 0 ? app.UseForwardedHeaders() : app;
    }

    /// <summary>Whether the connection's peer (the socket, not <c>X-Forwarded-For</c>) is a configured proxy.</summary>
    public static bool IsKnownProxy(ForwardedHeadersOptions options, IPAddress? peer)
    {
        if (peer is null)
        {
            return false;
        }
        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }
        return options.KnownProxies.Contains(peer);
    }

    private static List<IPAddress> Parse(string[] proxies) =>
    [
        .. proxies.Select(proxy => IPAddress.TryParse(proxy, out var address)
            ? address
            : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address.")),
    ];
}
