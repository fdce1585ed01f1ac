using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatGrains.Bench.HubLoad;

/// <summary>The <c>message</c> event and what <c>SendMessage</c> returns; only what is checked here.</summary>
internal sealed class MessageEvent
{
    public Guid ChatId { get; init; }

    public long Seq { get; init; }

    public Guid Id { get; init; }

    public DateTimeOffset SentAt { get; init; }
}

/// <summary>One participant's hub connection. Its <c>message</c> handler runs for one event at a time, in arrival order.</summary>
internal sealed class Participant(Conversation conversation, bool isVisitor, HubConnection connection)
{
    public Conversation Conversation { get; } = conversation;

    public bool IsVisitor { get; } = isVisitor;

    public HubConnection Connection { get; } = connection;

    /// <summary>The highest seq received; written by the handler only.</summary>
    public long LastSeq { get; set; }
}

/// <summary>A chat between a visitor and a commercial, each connected (possibly to different nodes), accepted.</summary>
internal sealed class Conversation(int index, Guid chatId)
{
    public int Index { get; } = index;

    public Guid ChatId { get; } = chatId;

    public string ChatIdText { get; } = chatId.ToString("D");

    public Participant Visitor { get; set; } = null!;

    public Participant Commercial { get; set; } = null!;
}

/// <summary>Sets conversations up through the nodes' public API, as a visitor and a commercial would.</summary>
internal sealed class ConversationSetup(Options options, IReadOnlyList<HttpClient> http, CommercialTokens tokens, Action<Participant, MessageEvent> onMessage, Action onResync, Action<Exception?> onClosed)
{
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(2);

    private int _retries;

    public int Retries => _retries;

    public async Task<Conversation[]> SetUpAsync(CancellationToken cancel)
    {
        var conversations = new Conversation[options.Conversations];
        using var gate = new SemaphoreSlim(options.SetupParallelism);
        var done = 0;
        var clock = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, options.Conversations).Select(async index =>
        {
            await gate.WaitAsync(cancel);
            try
            {
                conversations[index] = await WithRetriesAsync(index, cancel);
                var count = Interlocked.Increment(ref done);
                if (count % 200 == 0 || count == options.Conversations)
                {
                    await Console.Error.WriteLineAsync($"[hubload] {count}/{options.Conversations} conversations set up ({clock.Elapsed.TotalSeconds:F0} s)");
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        return conversations;
    }

    private async Task<Conversation> WithRetriesAsync(int index, CancellationToken cancel)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await SetUpOneAsync(index, cancel);
            }
            catch (Exception exception) when (attempt < 3 && !cancel.IsCancellationRequested)
            {
                Interlocked.Increment(ref _retries);
                await Console.Error.WriteLineAsync($"[hubload] conversation {index}: setup attempt {attempt} failed ({exception.GetType().Name}: {exception.Message}); again");
                await Task.Delay(TimeSpan.FromSeconds(attempt), cancel);
            }
        }
    }

    private async Task<Conversation> SetUpOneAsync(int index, CancellationToken cancel)
    {
        var visitorNode = index % options.Nodes.Count;
        var commercialNode = (index + 1) % options.Nodes.Count;
        var conversation = new Conversation(index, Guid.NewGuid());
        var commercialId = Guid.NewGuid();
        HubConnection? visitor = null;
        HubConnection? commercial = null;
        try
        {
            // The visitor: a live-chat session, its hub connection, then its chat.
            using var session = await http[visitorNode].PostAsJsonAsync(new Uri("/livechat/session", UriKind.Relative),
                new JsonObject { ["name"] = "Bench", ["city"] = "Solo", ["country"] = "Indonesia" }, cancel);
            await EnsureAsync(session, "POST /livechat/session");
            var sessionBody = await session.Content.ReadFromJsonAsync<JsonElement>(cancel);
            var visitorToken = sessionBody.GetProperty("sessionToken").GetString()!;
            var visitorId = sessionBody.GetProperty("userId").GetGuid();

            visitor = await ConnectAsync(options.Nodes[visitorNode], visitorToken, conversation, isVisitor: true, cancel);
            // The commercial connects before the chat names it: a visitor's token may offer a
            // chat only to a commercial on duty or that has signed in.
            commercial = await ConnectAsync(options.Nodes[commercialNode], tokens.Issue(commercialId, TokenLifetime), conversation, isVisitor: false, cancel);
            // StartAsync returns at the handshake, before the server's OnConnectedAsync (which
            // stores the sign-in) has run; the server reads a connection's first invocation only
            // after it, so one round trip (the chat does not exist yet: NOT_FOUND) waits for it.
            try
            {
                await commercial.InvokeAsync<JsonElement>("JoinChat", conversation.ChatIdText, 0, cancel);
            }
            catch (HubException)
            {
            }

            using var put = new HttpRequestMessage(HttpMethod.Put, new Uri($"/v2/chats/{conversation.ChatIdText}", UriKind.Relative))
            {
                Content = JsonContent.Create(new JsonObject
                {
                    ["visitorId"] = visitorId.ToString("D"),
                    ["visitorInfo"] = new JsonObject { ["name"] = "Bench Visitor", ["email"] = "bench@example.com" },
                    ["availableCommercialIds"] = new JsonArray(commercialId.ToString("D")),
                }),
            };
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", visitorToken);
            using var created = await http[visitorNode].SendAsync(put, cancel);
            await EnsureAsync(created, "PUT /v2/chats");

            // The commercial accepts.
            var accepted = await commercial.InvokeAsync<JsonElement>("AcceptChat", conversation.ChatIdText, cancel);
            if (accepted.GetProperty("status").GetString() != "ACTIVE")
            {
                throw new InvalidOperationException($"AcceptChat answered {accepted.GetRawText()}");
            }
            return conversation;
        }
        catch
        {
            if (visitor is not null)
            {
                await visitor.DisposeAsync();
            }
            if (commercial is not null)
            {
                await commercial.DisposeAsync();
            }
            throw;
        }
    }

    private async Task<HubConnection> ConnectAsync(Uri node, string token, Conversation conversation, bool isVisitor, CancellationToken cancel)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(node, "/hubs/livechat"), o =>
            {
                o.AccessTokenProvider = () => Task.FromResult<string?>(token);
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
            })
            .Build();
        var participant = new Participant(conversation, isVisitor, connection);
        connection.On<MessageEvent>("message", message => onMessage(participant, message));
        connection.On("resync", onResync);
        // Events this benchmark does not look at, handled so the client has nothing to complain about.
        connection.On<JsonElement>("chatOffered", _ => { });
        connection.On<JsonElement>("chatAccepted", _ => { });
        connection.On<JsonElement>("chatTaken", _ => { });
        connection.Closed += exception =>
        {
            onClosed(exception);
            return Task.CompletedTask;
        };
        await connection.StartAsync(cancel);
        if (isVisitor)
        {
            conversation.Visitor = participant;
        }
        else
        {
            conversation.Commercial = participant;
        }
        return connection;
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new HttpRequestException($"{what} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 300)]}");
        }
    }
}
