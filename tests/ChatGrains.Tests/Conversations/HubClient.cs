using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using ChatGrains.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatGrains.Tests.Conversations;

/// <summary>
/// A real SignalR client (the official client's default options unless told otherwise) on a node's hub, keeping every event
/// it receives in arrival order per event name, so a test waits for what it expects.
/// </summary>
public sealed class HubClient : IAsyncDisposable
{
    /// <summary>The events with a payload; <c>resync</c> has none.</summary>
    public static readonly string[] Events = ["chatOffered", "chatTaken", "chatAccepted", "message", "chatClosed", "chatWithdrawn", "chatReopened", "chatRated", "chatAssigned", "chatIdle"];

    /// <summary>Long enough for a busy CI machine; a test that passes waits far less.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly ConcurrentDictionary<string, Channel<JsonElement>> _received = new(StringComparer.Ordinal);

    private HubClient(HubConnection connection)
    {
        Connection = connection;
        foreach (var name in Events)
        {
            var channel = _received.GetOrAdd(name, _ => Channel.CreateUnbounded<JsonElement>());
            connection.On<JsonElement>(name, payload => channel.Writer.TryWrite(payload));
        }
        var resync = _received.GetOrAdd("resync", _ => Channel.CreateUnbounded<JsonElement>());
        connection.On("resync", () => resync.Writer.TryWrite(default));
    }

    public HubConnection Connection { get; }

    public static Task<HubClient> ConnectAsync(TestNode node, string token, HttpTransportType? transports = null) =>
        ConnectAsync(node.BaseAddress, token, transports);

    /// <param name="transports">
    /// Null: the official client's defaults, as a user's code has them (negotiation, then
    /// WebSockets, falling back to Server-Sent Events and long polling); else only these, still negotiated.
    /// </param>
    public static async Task<HubClient> ConnectAsync(Uri node, string token, HttpTransportType? transports = null)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(node, "/hubs/livechat"), options =>
            {
                options.AccessTokenProvider = () => Task.FromResult<string?>(token);
                if (transports is { } only)
                {
                    options.Transports = only;
                }
            })
            .Build();
        var client = new HubClient(connection);
        await connection.StartAsync();
        // StartAsync returns after the handshake, possibly before the hub's OnConnectedAsync has
        // registered the connection for events; invocations are dispatched only after it, so
        // one round trip means the connection receives everything from now on.
        await client.RefusedAsync("JoinChat", Guid.NewGuid().ToString(), 0L);
        return client;
    }

    /// <summary>The next <paramref name="name"/> event not yet taken, waiting for it if needed.</summary>
    public async Task<JsonElement> NextAsync(string name, TimeSpan? timeout = null)
    {
        using var wait = new CancellationTokenSource(timeout ?? Patience);
        try
        {
            return await _received[name].Reader.ReadAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no '{name}' event within {(timeout ?? Patience).TotalSeconds} s");
        }
    }

    /// <summary>The next <paramref name="name"/> event whose payload passes <paramref name="match"/>, skipping others.</summary>
    public async Task<JsonElement> NextAsync(string name, Func<JsonElement, bool> match, TimeSpan? timeout = null)
    {
        using var wait = new CancellationTokenSource(timeout ?? Patience);
        try
        {
            while (true)
            {
                var payload = await _received[name].Reader.ReadAsync(wait.Token);
                if (match(payload))
                {
                    return payload;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no matching '{name}' event within {(timeout ?? Patience).TotalSeconds} s");
        }
    }

    /// <summary>How long an absence check listens: far longer than a delivery takes on a busy machine.</summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Asserts that no <paramref name="name"/> event arrives: listens for <see cref="Quiet"/> first,
    /// so a late event would have been caught, not missed by looking too early.
    /// </summary>
    public Task AssertNoneAsync(string name) => AssertNoneAsync(name, _ => true);

    /// <summary>As <see cref="AssertNoneAsync(string)"/>, for the events that pass <paramref name="match"/>; others are taken and ignored.</summary>
    public async Task AssertNoneAsync(string name, Func<JsonElement, bool> match)
    {
        using var quiet = new CancellationTokenSource(Quiet);
        try
        {
            while (true)
            {
                var arrived = await _received[name].Reader.ReadAsync(quiet.Token);
                Assert.False(match(arrived), $"an unexpected '{name}' event arrived: {arrived.GetRawText()}");
            }
        }
        catch (OperationCanceledException) when (quiet.IsCancellationRequested)
        {
        }
    }

    /// <summary>The events of <paramref name="name"/> received and not yet taken, without waiting.</summary>
    public List<JsonElement> Drain(string name)
    {
        var events = new List<JsonElement>();
        while (_received[name].Reader.TryRead(out var payload))
        {
            events.Add(payload);
        }
        return events;
    }

    public Task<T> InvokeAsync<T>(string method, params object?[] args) => Connection.InvokeCoreAsync<T>(method, args);

    /// <summary>The hub error code of a refused call (<c>CHAT_ALREADY_TAKEN</c>, …).</summary>
    public async Task<string> RefusedAsync(string method, params object?[] args)
    {
        var error = await Assert.ThrowsAsync<HubException>(() => Connection.InvokeCoreAsync<JsonElement>(method, args));
        var match = System.Text.RegularExpressions.Regex.Match(error.Message, @"HubException: ([A-Z_]+): ");
        Assert.True(match.Success, $"no error code in: {error.Message}");
        return match.Groups[1].Value;
    }

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}
