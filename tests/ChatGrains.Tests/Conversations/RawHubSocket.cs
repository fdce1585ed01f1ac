using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Conversations;

/// <summary>
/// A bare WebSocket speaking SignalR's JSON protocol by hand, for frames no SignalR client would
/// send (arguments of the wrong type or range) and for a client that sends nothing at all.
/// </summary>
public sealed class RawHubSocket : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';

    private readonly ClientWebSocket _socket = new();
    private readonly Queue<string> _records = new();
    private readonly StringBuilder _partial = new();
    private readonly Decoder _utf8 = Encoding.UTF8.GetDecoder();
    private int _invocations;

    private RawHubSocket()
    {
    }

    /// <summary>Connects with the token in <c>access_token</c> and completes the JSON handshake.</summary>
    public static async Task<RawHubSocket> ConnectAsync(TestNode node, string token)
    {
        var socket = new RawHubSocket();
        var uri = new UriBuilder(new Uri(node.BaseAddress, "/hubs/livechat"))
        {
            Scheme = "ws",
            Query = $"access_token={Uri.EscapeDataString(token)}",
        }.Uri;
        using var patience = new CancellationTokenSource(HubClient.Patience);
        await socket._socket.ConnectAsync(uri, patience.Token);
        await socket.SendAsync("""{"protocol":"json","version":1}""");
        var handshake = await socket.NextRecordAsync(patience.Token);
        Assert.Equal("{}", handshake);
        return socket;
    }

    /// <summary>Invokes <paramref name="target"/> with <paramref name="arguments"/> (raw JSON, without brackets) and returns its completion frame.</summary>
    public async Task<JsonElement> InvokeAsync(string target, string arguments)
    {
        var id = (++_invocations).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await SendAsync($$"""{"type":1,"invocationId":"{{id}}","target":"{{target}}","arguments":[{{arguments}}]}""");
        using var patience = new CancellationTokenSource(HubClient.Patience);
        while (true)
        {
            var frame = JsonDocument.Parse(await NextRecordAsync(patience.Token)).RootElement;
            // Pings (type 6) and events come and go; the completion (type 3) of this call is the answer.
            if (frame.GetProperty("type").GetInt32() == 3 && frame.GetProperty("invocationId").GetString() == id)
            {
                return frame;
            }
        }
    }

    /// <summary>The hub error code of a refused call, as <see cref="HubClient.RefusedAsync"/> reads it.</summary>
    public async Task<string> RefusedAsync(string target, string arguments)
    {
        var completion = await InvokeAsync(target, arguments);
        Assert.True(completion.TryGetProperty("error", out var error), $"no error in {completion.GetRawText()}");
        var match = System.Text.RegularExpressions.Regex.Match(error.GetString()!, @"HubException: ([A-Z_]+): ");
        Assert.True(match.Success, $"no error code in: {error.GetString()}");
        return match.Groups[1].Value;
    }

    /// <summary>Reads until the server closes the connection (a close frame or the socket's end); pings in between are skipped.</summary>
    public async Task WaitUntilClosedAsync(TimeSpan patience)
    {
        using var wait = new CancellationTokenSource(patience);
        var buffer = new byte[4096];
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, wait.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (WebSocketException)
        {
            // The server dropped the connection without a close frame: closed all the same.
        }
        catch (OperationCanceledException) when (wait.IsCancellationRequested)
        {
            throw new TimeoutException($"the server kept the connection open for {patience.TotalSeconds} s");
        }
    }

    private Task SendAsync(string record) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(record + RecordSeparator), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    private async Task<string> NextRecordAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (_records.Count == 0)
        {
            var result = await _socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"the server closed the connection: {result.CloseStatusDescription}");
            }
            // A character's bytes may span two reads: the decoder keeps the first part for the next.
            var chars = new char[_utf8.GetCharCount(buffer, 0, result.Count)];
            _partial.Append(chars, 0, _utf8.GetChars(buffer, 0, result.Count, chars, 0));
            var text = _partial.ToString();
            var end = text.LastIndexOf(RecordSeparator);
            if (end < 0)
            {
                continue;
            }
            foreach (var record in text[..end].Split(RecordSeparator))
            {
                _records.Enqueue(record);
            }
            _partial.Clear().Append(text[(end + 1)..]);
        }
        return _records.Dequeue();
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var patience = new CancellationTokenSource(HubClient.Patience);
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, patience.Token);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
            {
                // Already going away; nothing to release but the socket.
            }
        }
        _socket.Dispose();
    }
}
