using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatGrains.Bench.HubLoad;

/// <summary>One message sent, and what became of it.</summary>
internal sealed class SentMessage(int phase, Conversation conversation, bool fromVisitor, long scheduled)
{
    public int Phase { get; } = phase;

    public Conversation Conversation { get; } = conversation;

    public bool FromVisitor { get; } = fromVisitor;

    /// <summary>When it was due (Stopwatch ticks): latencies count from here, so a late send counts against the system too.</summary>
    public long Scheduled { get; } = scheduled;

    public long Issued;

    /// <summary>When SendMessage answered (0: not, or with an error).</summary>
    public long Acked;

    public bool Failed;

    /// <summary>When the other participant's connection first received it (0: not yet).</summary>
    public long ReceivedByOther;

    public int OtherReceipts;

    public int OwnReceipts;
}

/// <summary>The figures of one phase.</summary>
internal sealed record PhaseResult(string Name, int Rate, double Seconds, string Line, double P99Ms, bool Clean);

/// <summary>
/// Open-loop load: messages are due at fixed times (rate per second in all) and sent then, whether
/// or not earlier ones were answered. Message i goes to conversation i mod N, its senders
/// alternating (visitor, commercial, visitor...). Each message is tracked by its clientMessageId.
/// </summary>
internal sealed class Load(Options options)
{
    private readonly ConcurrentDictionary<Guid, SentMessage> _sent = new();
    private readonly ConcurrentQueue<string> _errorSamples = new();
    private Conversation[] _conversations = [];
    private long _next;
    private long _orderViolations;
    private long _unknown;
    private long _resyncs;
    private long _closed;
    private long _errors;
    private volatile bool _tearingDown;
    private string _text = "";

    public long OrderViolations => Interlocked.Read(ref _orderViolations);

    public long Closed => Interlocked.Read(ref _closed);

    public void Use(Conversation[] conversations)
    {
        _conversations = conversations;
        _text = new string('x', options.TextLength);
    }

    /// <summary>The <c>message</c> handler of every connection.</summary>
    public void OnMessage(Participant at, MessageEvent message)
    {
        var now = Stopwatch.GetTimestamp();
        if (message.ChatId != at.Conversation.ChatId || message.Seq != at.LastSeq + 1)
        {
            Interlocked.Increment(ref _orderViolations);
        }
        if (message.Seq > at.LastSeq)
        {
            at.LastSeq = message.Seq;
        }
        if (!_sent.TryGetValue(message.Id, out var sent))
        {
            Interlocked.Increment(ref _unknown);
            return;
        }
        if (sent.FromVisitor != at.IsVisitor)
        {
            if (Interlocked.Increment(ref sent.OtherReceipts) == 1)
            {
                Volatile.Write(ref sent.ReceivedByOther, now);
            }
        }
        else
        {
            Interlocked.Increment(ref sent.OwnReceipts);
        }
    }

    public void OnResync() => Interlocked.Increment(ref _resyncs);

    public void OnClosed(Exception? exception)
    {
        if (_tearingDown)
        {
            return;
        }
        Interlocked.Increment(ref _closed);
        Sample($"connection closed: {exception?.GetType().Name}: {exception?.Message}");
    }

    public void TearingDown() => _tearingDown = true;

    /// <summary>Sends at <paramref name="rate"/> for <paramref name="duration"/>, waits for the answers and deliveries (at most the grace period), and sums up.</summary>
    public async Task<PhaseResult> RunPhaseAsync(int phase, string name, int rate, TimeSpan duration)
    {
        var total = (long)(rate * duration.TotalSeconds);
        var messages = new List<SentMessage>((int)total);
        var sends = new List<Task>((int)total);
        var before = Snapshot();
        var gcBefore = GC.GetTotalPauseDuration();

        // A dedicated thread keeps the schedule: each millisecond it sends whatever is due.
        var started = Stopwatch.GetTimestamp();
        var frequency = (double)Stopwatch.Frequency;
        var scheduler = new Thread(() =>
        {
            long issued = 0;
            while (issued < total)
            {
                var due = Math.Min(total, (long)(Stopwatch.GetElapsedTime(started).TotalSeconds * rate) + 1);
                for (; issued < due; issued++)
                {
                    var scheduled = started + (long)(issued * frequency / rate);
                    var message = Next(phase, scheduled);
                    messages.Add(message);
                    sends.Add(SendAsync(message));
                }
                Thread.Sleep(1);
            }
        })
        {
            IsBackground = true,
            Name = "hubload scheduler",
        };
        scheduler.Start();
        await Task.Run(scheduler.Join);
        var lastDue = started + (long)((total - 1) * frequency / rate);
        var sendingSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        // Answers, then deliveries: every acked message at both connections, or the grace period is over.
        var graceEnd = Stopwatch.GetTimestamp() + (long)(options.Grace.TotalSeconds * frequency);
        try
        {
            await Task.WhenAll(sends).WaitAsync(options.Grace);
        }
        catch (TimeoutException)
        {
        }
        while (Stopwatch.GetTimestamp() < graceEnd && messages.Any(m => Volatile.Read(ref m.Acked) != 0 && (Volatile.Read(ref m.OtherReceipts) == 0 || Volatile.Read(ref m.OwnReceipts) == 0)))
        {
            await Task.Delay(50);
        }
        var after = Snapshot();
        var gcPause = GC.GetTotalPauseDuration() - gcBefore;
        return Summarise(name, rate, duration.TotalSeconds, messages, before, after, started, lastDue, sendingSeconds, gcPause);
    }

    /// <summary>Messages of every phase: lost or doubled ones, counted again after the last phase.</summary>
    public string FinalLine(TimeSpan setup, int setupRetries)
    {
        var all = _sent.Values.ToList();
        var acked = all.Count(m => m.Acked != 0);
        var lostOther = all.Count(m => m.Acked != 0 && m.OtherReceipts == 0);
        var lostOwn = all.Count(m => m.Acked != 0 && m.OwnReceipts == 0);
        var doubled = all.Count(m => m.OtherReceipts > 1) + all.Count(m => m.OwnReceipts > 1);
        var unacked = all.Count(m => m.Acked == 0 && !m.Failed);
        return Line("FINAL",
            ("conversations", _conversations.Length),
            ("connections", _conversations.Length * 2),
            ("setup_s", Math.Round(setup.TotalSeconds, 1)),
            ("setup_retries", setupRetries),
            ("sent", all.Count),
            ("acked", acked),
            ("errors", Interlocked.Read(ref _errors)),
            ("unacked", unacked),
            ("lost", lostOther),
            ("lost_own", lostOwn),
            ("doubled", doubled),
            ("order_violations", OrderViolations),
            ("unknown", Interlocked.Read(ref _unknown)),
            ("resyncs", Interlocked.Read(ref _resyncs)),
            ("closed", Closed));
    }

    public IEnumerable<string> ErrorSamples => _errorSamples;

    private SentMessage Next(int phase, long scheduled)
    {
        var i = _next++;
        var conversation = _conversations[i % _conversations.Length];
        var fromVisitor = i / _conversations.Length % 2 == 0;
        return new SentMessage(phase, conversation, fromVisitor, scheduled);
    }

    private async Task SendAsync(SentMessage message)
    {
        var id = Guid.NewGuid();
        _sent[id] = message;
        var sender = message.FromVisitor ? message.Conversation.Visitor : message.Conversation.Commercial;
        message.Issued = Stopwatch.GetTimestamp();
        try
        {
            var answer = await sender.Connection.InvokeAsync<MessageEvent>("SendMessage", message.Conversation.ChatIdText, id.ToString("D"), _text);
            if (answer.Id != id || answer.ChatId != message.Conversation.ChatId)
            {
                throw new InvalidOperationException($"SendMessage answered message {answer.Id} of chat {answer.ChatId}");
            }
            Volatile.Write(ref message.Acked, Stopwatch.GetTimestamp());
        }
        catch (Exception exception)
        {
            message.Failed = true;
            Interlocked.Increment(ref _errors);
            Sample($"SendMessage: {exception.GetType().Name}: {exception.Message}");
        }
    }

    private void Sample(string error)
    {
        if (_errorSamples.Count < 20)
        {
            _errorSamples.Enqueue(error);
        }
    }

    private (long Order, long Unknown, long Resyncs, long Closed) Snapshot() =>
        (OrderViolations, Interlocked.Read(ref _unknown), Interlocked.Read(ref _resyncs), Closed);

    private static PhaseResult Summarise(string name, int rate, double seconds, List<SentMessage> messages,
        (long Order, long Unknown, long Resyncs, long Closed) before, (long Order, long Unknown, long Resyncs, long Closed) after,
        long started, long lastDue, double sendingSeconds, TimeSpan gcPause)
    {
        static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        var acked = messages.Where(m => m.Acked != 0).ToList();
        var delivery = messages.Where(m => m.ReceivedByOther != 0).Select(m => Ms(m.ReceivedByOther - m.Scheduled)).Order().ToArray();
        var ack = acked.Select(m => Ms(m.Acked - m.Scheduled)).Order().ToArray();
        var lag = messages.Select(m => Ms(m.Issued - m.Scheduled)).Order().ToArray();
        var lost = acked.Count(m => m.OtherReceipts == 0);
        var lostOwn = acked.Count(m => m.OwnReceipts == 0);
        var doubled = messages.Count(m => m.OtherReceipts > 1) + messages.Count(m => m.OwnReceipts > 1);
        var errors = messages.Count(m => m.Failed);
        var unacked = messages.Count(m => m.Acked == 0 && !m.Failed);
        var deliveredUnacked = messages.Count(m => m.Acked == 0 && m.ReceivedByOther != 0);
        var order = after.Order - before.Order;
        var p99 = Percentile(delivery, 99);
        var line = Line(name == "warmup" ? "WARMUP" : "RESULT",
            ("phase", name),
            ("rate", rate),
            ("seconds", seconds),
            ("sent", messages.Count),
            ("sent_per_s", Math.Round(messages.Count / Ms(lastDue - started) * 1000, 1)),
            ("send_s", Math.Round(sendingSeconds, 2)),
            ("acked", acked.Count),
            ("errors", errors),
            ("unacked", unacked),
            ("delivered", delivery.Length),
            ("lost", lost),
            ("lost_own", lostOwn),
            ("doubled", doubled),
            ("delivered_unacked", deliveredUnacked),
            ("order_violations", order),
            ("unknown", after.Unknown - before.Unknown),
            ("resyncs", after.Resyncs - before.Resyncs),
            ("closed", after.Closed - before.Closed),
            ("p50_ms", Percentile(delivery, 50)),
            ("p90_ms", Percentile(delivery, 90)),
            ("p99_ms", p99),
            ("p999_ms", Percentile(delivery, 99.9)),
            ("max_ms", delivery.Length > 0 ? Math.Round(delivery[^1], 1) : double.NaN),
            ("ack_p50_ms", Percentile(ack, 50)),
            ("ack_p99_ms", Percentile(ack, 99)),
            ("lag_p99_ms", Percentile(lag, 99)),
            ("lag_max_ms", lag.Length > 0 ? Math.Round(lag[^1], 1) : double.NaN),
            ("client_gc_pause_ms", Math.Round(gcPause.TotalMilliseconds)));
        var clean = lost == 0 && lostOwn == 0 && doubled == 0 && errors == 0 && unacked == 0 && order == 0;
        return new PhaseResult(name, rate, seconds, line, p99, clean);
    }

    /// <summary>Nearest rank on sorted values, in ms rounded to 0.1.</summary>
    private static double Percentile(double[] sorted, double percent)
    {
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return Math.Round(sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)], 1);
    }

    private static string Line(string kind, params (string Key, object Value)[] fields)
    {
        var line = new StringBuilder(kind);
        foreach (var (key, value) in fields)
        {
            line.Append(' ').Append(key).Append('=').Append(Convert.ToString(value, CultureInfo.InvariantCulture));
        }
        return line.ToString();
    }
}
