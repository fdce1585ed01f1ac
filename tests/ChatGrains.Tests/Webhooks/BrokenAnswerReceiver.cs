using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ChatGrains.Tests.Webhooks;

/// <summary>
/// A receiver whose answer breaks off: over a plain socket on loopback, it reads each request,
/// answers <c>200</c> with a <c>Content-Length</c> of 1000, sends a few bytes of that body and
/// closes the connection gracefully (a FIN, so the status line surely arrives first, which a reset
/// would not guarantee). Kestrel cannot be made to misbehave this way.
/// </summary>
public sealed class BrokenAnswerReceiver : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _ids = new();
    private readonly Task _accepting;

    public BrokenAnswerReceiver()
    {
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/hook");
        _accepting = AcceptAsync();
    }

    public Uri Url { get; }

    /// <summary>The <c>webhook-id</c> of every request received.</summary>
    public IReadOnlyList<string> ReceivedIds => [.. _ids];

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = AnswerAsync(socket);
        }
    }

    private async Task AnswerAsync(Socket socket)
    {
        using (socket)
        {
            var request = new StringBuilder();
            var buffer = new byte[16 * 1024];
            int headersEnd;
            while ((headersEnd = request.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
            {
                var n = await socket.ReceiveAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    return;
                }
                request.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
            var headers = request.ToString(0, headersEnd).Split("\r\n");
            string Header(string name) => headers.Single(h => h.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))[(name.Length + 1)..].Trim();
            var length = int.Parse(Header("Content-Length"), CultureInfo.InvariantCulture);
            for (var received = request.Length - headersEnd - 4; received < length;)
            {
                var n = await socket.ReceiveAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    return;
                }
                received += n;
            }
            _ids.Enqueue(Header("webhook-id"));
            await socket.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/json\r\n\r\n{\"ok\":"u8.ToArray(), _stop.Token);
            socket.Shutdown(SocketShutdown.Both);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
