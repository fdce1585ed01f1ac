using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.SignalR;

namespace ChatGrains.ApiGateway.Conversations;

/// <summary>
/// Starts the client timeout of every connection when it connects. SignalR starts it only at a
/// client's first ping (so that clients older than 3.0, which never ping, are not cut off): a
/// client that completed the handshake and then stayed silent kept its connection, measured
/// still open after 127 s. Every client this node serves pings (@microsoft/signalr and the .NET
/// client, every 15 s), so starting it at once is what the first ping would do. Long polling is
/// left alone: its clients do not ping, and its transport ends a connection that stops polling.
/// </summary>
internal sealed class SilentClientTimeout(ILogger<DefaultHubLifetimeManager<LiveChatHub>> logger)
    : DefaultHubLifetimeManager<LiveChatHub>(logger)
{
    public override Task OnConnectedAsync(HubConnectionContext connection)
    {
        if (connection.Features.Get<IConnectionInherentKeepAliveFeature>()?.HasInherentKeepAlive != true)
        {
            StartClientTimeout(connection);
        }
        return base.OnConnectedAsync(connection);
    }

    // SignalR's own timeout, the one a first ping starts; it is internal, hence the accessor
    // (a renamed method fails every connection at once, and the silent-client test with it).
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "StartClientTimeout")]
    private static extern void StartClientTimeout(HubConnectionContext connection);
}
