using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatGrains.Bench.HubLoad;

/// <summary>
/// One message sent, and what became of it: a slot of a preallocated array, indexed by the
/// message's number, which its clientMessageId carries, so tracking allocates nothing per message
/// (the load generator's own GC pauses would otherwise count as delivery latency).
/// </summary>
internal struct Slot
{
    public int Conversation;
    public bool FromVisitor;
    public bool Failed;

    /// <summary>When it was due (Stopwatch ticks): latencies count from here, so a late send counts against the system too.</summary>
    public long Scheduled;

    public long Issued;

    /// <summary>When SendMessage answered (0: not, or with an error).</summary>
    public long Acked;

    /// <summary>The message's <c>sentAt</c> (the chat grain's clock, when it took the message), in Stopwatch ticks.</summary>
    public long ServerSentAt;

    /// <summary>When the other participant's connection first received it (0: not yet).</summary>
    public long ReceivedByOther;

    public int OtherReceipts;
    public int OwnReceipts;
}

/// <summary>The figures of one phase.</summary>
internal sealed record PhaseResult(string Name, int Rate, string Line, double P99Ms, bool Clean);

/// <summary>
/// Open-loop load: messages are due at fixed times (rate per second in all) and sent then, whether
/// or not earlier ones were answered. Message i goes to conversation i mod N, its senders
/// alternating (visitor, commercial, visitor...). Its clientMessageId encodes i.
/// </summary>
internal sealed class Load
{
    private readonly Options _options;
    private readonly Slot[] _slots;
    private readonly int _run = Random.Shared.Next();
    private readonly ConcurrentQueue<string> _errorSamples = new();
    private readonly string _text;
    // The wall clock at a known Stopwatch reading: converts the server's sentAt (same machine).
    private readonly DateTimeOffset _epochUtc = DateTimeOffset.UtcNow;
    private readonly long _epochTicks = Stopwatch.GetTimestamp();
    private Conversation[] _conversations = [];
    private long _next;
    private long _orderViolations;
    private long _unknown;
    private long _resyncs;
    private long _closed;
    private long _errors;
    private volatile bool _tearingDown;

    public Load(Options options)
    {
        _options = options;
        var total = options.Rates.Sum(rate => (long)rate * (long)(options.Warmup.TotalSeconds + options.Duration.TotalSeconds));
        _slots = new Slot[total];
        _text = new string('x', options.TextLength);
    }

    public long OrderViolations => Interlocked.Read(ref _orderViolations);

    public long Closed => Interlocked.Read(ref _closed);

    public IEnumerable<string> ErrorSamples => _errorSamples;

    public void Use(Conversation[] conversations) => _conversations = conversations;

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
        if (!TryIndexOf(message.Id, out var index))
        {
            Interlocked.Increment(ref _unknown);
            return;
        }
        ref var slot = ref _slots[index];
        if (slot.FromVisitor != at.IsVisitor)
        {
            if (Interlocked.Increment(ref slot.OtherReceipts) == 1)
            {
                Volatile.Write(ref slot.ServerSentAt, TicksOf(message.SentAt));
                Volatile.Write(ref slot.ReceivedByOther, now);
            }
        }
        else
        {
            Interlocked.Increment(ref slot.OwnReceipts);
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
    public async Task<PhaseResult> RunPhaseAsync(string name, int rate, TimeSpan duration)
    {
        var total = (long)(rate * duration.TotalSeconds);
        var first = _next;
        var sends = new Task[total];
        var before = Snapshot();
        var gcBefore = GC.GetTotalPauseDuration();
        int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var latencyMode = GCSettings.LatencyMode;
        // No blocking full collections while measuring (background ones only).
        GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency;

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
                    sends[issued] = SendAsync(first + issued, started + (long)(issued * frequency / rate));
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
        var graceEnd = Stopwatch.GetTimestamp() + (long)(_options.Grace.TotalSeconds * frequency);
        try
        {
            await Task.WhenAll(sends).WaitAsync(_options.Grace);
        }
        catch (TimeoutException)
        {
        }
        while (Stopwatch.GetTimestamp() < graceEnd && Waiting(first, first + total))
        {
            await Task.Delay(50);
        }
        GCSettings.LatencyMode = latencyMode;
        var gcPause = GC.GetTotalPauseDuration() - gcBefore;
        var collections = string.Create(CultureInfo.InvariantCulture,
            $"{GC.CollectionCount(0) - collectionsBefore[0]}/{GC.CollectionCount(1) - collectionsBefore[1]}/{GC.CollectionCount(2) - collectionsBefore[2]}");
        return Summarise(name, rate, duration.TotalSeconds, first, first + total, before, Snapshot(), started, lastDue, sendingSeconds, gcPause, collections);
    }

    /// <summary>Messages of every phase (warm-ups too), counted again after the last phase: late deliveries count as delivered here.</summary>
    public string FinalLine(TimeSpan setup, int setupRetries)
    {
        long acked = 0, lost = 0, lostOwn = 0, doubled = 0, unacked = 0;
        for (long i = 0; i < _next; i++)
        {
            ref var slot = ref _slots[i];
            acked += slot.Acked != 0 ? 1 : 0;
            lost += slot.Acked != 0 && slot.OtherReceipts == 0 ? 1 : 0;
            lostOwn += slot.Acked != 0 && slot.OwnReceipts == 0 ? 1 : 0;
            doubled += (slot.OtherReceipts > 1 ? 1 : 0) + (slot.OwnReceipts > 1 ? 1 : 0);
            unacked += slot.Acked == 0 && !slot.Failed ? 1 : 0;
        }
        return Line("FINAL",
            ("conversations", _conversations.Length),
            ("connections", _conversations.Length * 2),
            ("setup_s", Math.Round(setup.TotalSeconds, 1)),
            ("setup_retries", setupRetries),
            ("sent", _next),
            ("acked", acked),
            ("errors", Interlocked.Read(ref _errors)),
            ("unacked", unacked),
            ("lost", lost),
            ("lost_own", lostOwn),
            ("doubled", doubled),
            ("order_violations", OrderViolations),
            ("unknown", Interlocked.Read(ref _unknown)),
            ("resyncs", Interlocked.Read(ref _resyncs)),
            ("closed", Closed));
    }

    private bool Waiting(long from, long to)
    {
        for (var i = from; i < to; i++)
        {
            ref var slot = ref _slots[i];
            if (Volatile.Read(ref slot.Acked) != 0 && (Volatile.Read(ref slot.OtherReceipts) == 0 || Volatile.Read(ref slot.OwnReceipts) == 0))
            {
                return true;
            }
        }
        return false;
    }

    private async Task SendAsync(long index, long scheduled)
    {
        var conversationIndex = (int)(index % _conversations.Length);
        var fromVisitor = index / _conversations.Length % 2 == 0;
        ref var slot = ref _slots[index];
        slot.Conversation = conversationIndex;
        slot.FromVisitor = fromVisitor;
        slot.Scheduled = scheduled;
        slot.Issued = Stopwatch.GetTimestamp();
        _next = index + 1;
        var conversation = _conversations[conversationIndex];
        var sender = fromVisitor ? conversation.Visitor : conversation.Commercial;
        var id = IdOf(index);
        try
        {
            var answer = await sender.Connection.InvokeAsync<MessageEvent>("SendMessage", conversation.ChatIdText, id.ToString("D"), _text);
            if (answer.Id != id || answer.ChatId != conversation.ChatId)
            {
                throw new InvalidOperationException($"SendMessage answered message {answer.Id} of chat {answer.ChatId}");
            }
            Volatile.Write(ref _slots[index].Acked, Stopwatch.GetTimestamp());
        }
        catch (Exception exception)
        {
            _slots[index].Failed = true;
            Interlocked.Increment(ref _errors);
            Sample($"SendMessage: {exception.GetType().Name}: {exception.Message}");
        }
    }

    /// <summary>This run's clientMessageId of message <paramref name="index"/>: the run's number, then the index.</summary>
    private Guid IdOf(long index)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, _run);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[4..], 0x4000_0000);
        BinaryPrimitives.WriteInt64LittleEndian(bytes[8..], index);
        return new Guid(bytes);
    }

    private bool TryIndexOf(Guid id, out long index)
    {
        Span<byte> bytes = stackalloc byte[16];
        _ = id.TryWriteBytes(bytes);
        index = BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes) == _run && index >= 0 && index < _slots.Length;
    }

    private long TicksOf(DateTimeOffset utc) => _epochTicks + (long)((utc - _epochUtc).TotalSeconds * Stopwatch.Frequency);

    private void Sample(string error)
    {
        if (_errorSamples.Count < 20)
        {
            _errorSamples.Enqueue(error);
        }
    }

    private (long Order, long Unknown, long Resyncs, long Closed) Snapshot() =>
        (OrderViolations, Interlocked.Read(ref _unknown), Interlocked.Read(ref _resyncs), Closed);

    private PhaseResult Summarise(string name, int rate, double seconds, long from, long to,
        (long Order, long Unknown, long Resyncs, long Closed) before, (long Order, long Unknown, long Resyncs, long Closed) after,
        long started, long lastDue, double sendingSeconds, TimeSpan gcPause, string collections)
    {
        static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        var delivery = new List<double>();
        var inbound = new List<double>();
        var outbound = new List<double>();
        var ack = new List<double>();
        var lag = new List<double>();
        long acked = 0, lost = 0, lostOwn = 0, doubled = 0, errors = 0, unacked = 0, deliveredUnacked = 0;
        for (var i = from; i < to; i++)
        {
            ref var slot = ref _slots[i];
            lag.Add(Ms(slot.Issued - slot.Scheduled));
            if (slot.ReceivedByOther != 0)
            {
                delivery.Add(Ms(slot.ReceivedByOther - slot.Scheduled));
                inbound.Add(Ms(slot.ServerSentAt - slot.Scheduled));
                outbound.Add(Ms(slot.ReceivedByOther - slot.ServerSentAt));
            }
            if (slot.Acked != 0)
            {
                acked++;
                ack.Add(Ms(slot.Acked - slot.Scheduled));
                lost += slot.OtherReceipts == 0 ? 1 : 0;
                lostOwn += slot.OwnReceipts == 0 ? 1 : 0;
            }
            else if (slot.Failed)
            {
                errors++;
            }
            else
            {
                unacked++;
            }
            deliveredUnacked += slot.Acked == 0 && slot.ReceivedByOther != 0 ? 1 : 0;
            doubled += (slot.OtherReceipts > 1 ? 1 : 0) + (slot.OwnReceipts > 1 ? 1 : 0);
        }
        foreach (var list in new[] { delivery, inbound, outbound, ack, lag })
        {
            list.Sort();
        }
        var order = after.Order - before.Order;
        var p99 = Percentile(delivery, 99);
        var line = Line(name == "warmup" ? "WARMUP" : "RESULT",
            ("phase", name),
            ("rate", rate),
            ("seconds", seconds),
            ("sent", to - from),
            ("sent_per_s", Math.Round((to - from) / Ms(lastDue - started) * 1000, 1)),
            ("send_s", Math.Round(sendingSeconds, 2)),
            ("acked", acked),
            ("errors", errors),
            ("unacked", unacked),
            ("delivered", delivery.Count),
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
            ("max_ms", delivery.Count > 0 ? Math.Round(delivery[^1], 1) : double.NaN),
            ("in_p50_ms", Percentile(inbound, 50)),
            ("in_p99_ms", Percentile(inbound, 99)),
            ("out_p50_ms", Percentile(outbound, 50)),
            ("out_p99_ms", Percentile(outbound, 99)),
            ("ack_p50_ms", Percentile(ack, 50)),
            ("ack_p99_ms", Percentile(ack, 99)),
            ("lag_p99_ms", Percentile(lag, 99)),
            ("lag_max_ms", lag.Count > 0 ? Math.Round(lag[^1], 1) : double.NaN),
            ("client_gc_pause_ms", Math.Round(gcPause.TotalMilliseconds)),
            ("client_gcs", collections));
        var clean = lost == 0 && lostOwn == 0 && doubled == 0 && errors == 0 && unacked == 0 && order == 0;
        return new PhaseResult(name, rate, line, p99, clean);
    }

    /// <summary>Nearest rank on sorted values, in ms rounded to 0.1.</summary>
    private static double Percentile(List<double> sorted, double percent)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return Math.Round(sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)], 1);
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
