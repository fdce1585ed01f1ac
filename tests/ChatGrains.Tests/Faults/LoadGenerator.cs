using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using ChatGrains.Tests.Chats;

namespace ChatGrains.Tests.Faults;

/// <summary>One PUT the load sent, and what came back (a status, or the exception instead).</summary>
public sealed record SentChat(
    Guid ChatId,
    Guid VisitorId,
    string VisitorName,
    TimeSpan Started,
    TimeSpan Elapsed,
    HttpStatusCode? Status,
    string? ResponseBody,
    bool HasRetryAfter,
    string? Error)
{
    public bool Acknowledged => Status == HttpStatusCode.OK;

    /// <summary>The status, or the exception type when no response came.</summary>
    public string Outcome => Status is { } status ? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture) : Error ?? "?";
}

/// <summary>
/// Steady load of chat creations: <c>workers</c> concurrent senders share a schedule of
/// <c>requestsPerSecond</c>, each request a <c>PUT /v2/chats/{fresh uuid}</c> with the spec's
/// minimal body and its own visitor id and name, so every stored chat can be matched to the
/// request that created it. Bounded: it stops after <c>duration</c> (or <see cref="Stop"/>),
/// so it sends at most duration × rate requests.
/// </summary>
public sealed class LoadGenerator
{
    private readonly HttpClient _client;
    private readonly TimeSpan _duration;
    private readonly int _requestsPerSecond;
    private readonly Stopwatch _clock = new();
    private readonly ConcurrentQueue<SentChat> _sent = new();
    private volatile bool _stopped;
    private long _next = -1;

    private LoadGenerator(HttpClient client, TimeSpan duration, int requestsPerSecond)
    {
        _client = client;
        _duration = duration;
        _requestsPerSecond = requestsPerSecond;
    }

    /// <summary>Time since the load started, on the clock the records' <see cref="SentChat.Started"/> use.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    public Task<IReadOnlyList<SentChat>> Completion { get; private set; } = null!;

    public static LoadGenerator Start(HttpClient client, TimeSpan duration, int requestsPerSecond = 250, int workers = 16)
    {
        var load = new LoadGenerator(client, duration, requestsPerSecond);
        load._clock.Start();
        var running = Enumerable.Range(0, workers).Select(_ => Task.Run(load.WorkAsync)).ToArray();
        load.Completion = load.CollectAsync(running);
        return load;
    }

    /// <summary>No new request is sent; those in flight finish.</summary>
    public Task<IReadOnlyList<SentChat>> StopAsync()
    {
        _stopped = true;
        return Completion;
    }

    private async Task<IReadOnlyList<SentChat>> CollectAsync(Task[] running)
    {
        await Task.WhenAll(running);
        return [.. _sent.OrderBy(s => s.Started)];
    }

    private async Task WorkAsync()
    {
        while (true)
        {
            var index = Interlocked.Increment(ref _next);
            var due = TimeSpan.FromSeconds(index / (double)_requestsPerSecond);
            if (due >= _duration)
            {
                return;
            }
            // At most the gap of one worker's share of the schedule (workers / rate).
            var wait = due - _clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            if (_stopped)
            {
                return;
            }
            _sent.Enqueue(await SendAsync(index));
        }
    }

    private async Task<SentChat> SendAsync(long index)
    {
        var chatId = Guid.NewGuid();
        var visitorId = Guid.NewGuid();
        var name = $"Visitor {index}";
        var body = ChatRequests.MinimalBody(visitorId);
        body["visitorInfo"]!["name"] = name;
        var started = _clock.Elapsed;
        try
        {
            using var response = await _client.PutChatAsync(chatId, body);
            var text = await response.Content.ReadAsStringAsync();
            return new SentChat(chatId, visitorId, name, started, _clock.Elapsed - started, response.StatusCode, text,
                response.Headers.RetryAfter is not null, Error: null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // TaskCanceledException here is HttpClient's timeout: no answer in 15 s.
            return new SentChat(chatId, visitorId, name, started, _clock.Elapsed - started, Status: null, ResponseBody: null,
                HasRetryAfter: false, Error: $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
