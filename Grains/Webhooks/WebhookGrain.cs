using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace ChatGrains.Grains;

/// <summary>
/// One webhook and its deliveries. While enabled, a timer (every <c>Webhooks:PollInterval</c>)
/// takes the next events after its cursor from the event log and sends them: a chat's events one
/// after the other, in chatSeq order; different chats (and events without a chat) in parallel. An
/// event that fails while others succeed waits in its chat's retry queue, which later events of
/// that chat join, so the order holds; when everything fails (the receiver is down) the webhook
/// backs off as a whole and takes nothing more until an attempt succeeds. The cursor is stored
/// after each round, so a webhook whose node dies resumes on another node from its last round:
/// at least once, never out of order for a chat. While the node is busy with writes, rounds wait
/// for it (<see cref="YieldsToWrites"/>).
/// </summary>
public sealed partial class WebhookGrain(
    [PersistentState(GrainStorage.Webhook, GrainStorage.Name)] IPersistentState<WebhookRecord> state,
    IEventLog events,
    IWebhookTransport transport,
    IApiLoad load,
    IOptions<WebhookOptions> options,
    GrainMetrics metrics,
    TimeProvider clock,
    ILogger<WebhookGrain> logger) : Grain, IWebhookGrain
{
    /// <summary>Events taken from the log per round.</summary>
    private const int BatchSize = 500;

    /// <summary>Chats sent to at once: enough to keep up with a busy cluster over a receiver's latency.</summary>
    private const int Parallelism = 32;

    /// <summary>Chats waiting to be retried beyond which no new events are taken (a receiver failing for most of them).</summary>
    private const int MaxRetryLines = 1000;

    /// <summary>Attempts listed: this activation's last ones, and the last failures stored with the record.</summary>
    private const int KeptAttempts = 500;

    /// <summary>How long one timer turn may go on taking full pages before it lets other calls in.</summary>
    private static readonly TimeSpan CatchUpTurn = TimeSpan.FromSeconds(1);

    private readonly LinkedList<DeliveryAttempt> _recent = new();
    private IGrainTimer? _timer;
    private bool _pageWasFull;
    private DateTimeOffset? _yieldingSince;

    private WebhookOptions Options => options.Value;

    private WebhookRecord Record => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        StartOrStopDelivering();
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.WebhookBacklog(this.GetPrimaryKey(), null);
        return Task.CompletedTask;
    }

    public async Task<Webhook> Create(WebhookSettings settings, string protectedSecret)
    {
        if (Record.Settings is not null)
        {
            return View();
        }
        // Listed first: a webhook stored but not listed would never be woken after a restart.
        await GrainFactory.GetGrain<IWebhookRegistryGrain>(0).Add(this.GetPrimaryKey());
        var now = clock.GetUtcNow();
        state.State = new WebhookRecord
        {
            Settings = settings,
            ProtectedSecret = protectedSecret,
            CreatedAt = now,
            UpdatedAt = now,
            // Events stored from now on; not the backlog of everything kept.
            Cursor = await events.EndAsync(CancellationToken.None),
        };
        await state.WriteStateAsync();
        StartOrStopDelivering();
        return View();
    }

    public Task<Webhook?> Find() => Task.FromResult(Record.Settings is null ? null : View());

    public async Task<Webhook?> Update(WebhookSettings settings)
    {
        if (Record.Settings is not { } before)
        {
            return null;
        }
        Record.Settings = settings;
        Record.UpdatedAt = clock.GetUtcNow();
        if (settings.Enabled && !before.Enabled)
        {
            // Enabled again: try at once, as if nothing had failed.
            Record.DisabledReason = null;
            Record.FailingSince = null;
            Record.Stalled = null;
        }
        await state.WriteStateAsync();
        StartOrStopDelivering();
        return View();
    }

    public async Task<bool> Delete()
    {
        if (Record.Settings is null)
        {
            return false;
        }
        await state.ClearStateAsync();
        await GrainFactory.GetGrain<IWebhookRegistryGrain>(0).Remove(this.GetPrimaryKey());
        StartOrStopDelivering();
        DeactivateOnIdle();
        return true;
    }

    public async Task<Webhook?> RotateSecret(string protectedSecret, DateTimeOffset previousUntil)
    {
        if (Record.Settings is null)
        {
            return null;
        }
        Record.PreviousProtectedSecret = Record.ProtectedSecret;
        Record.PreviousSecretUntil = previousUntil;
        Record.ProtectedSecret = protectedSecret;
        Record.UpdatedAt = clock.GetUtcNow();
        await state.WriteStateAsync();
        return View();
    }

    public async Task<DeliveryAttempt?> SendTest()
    {
        if (Record.Settings is null)
        {
            return null;
        }
        var (eventId, result) = await transport.SendTestAsync(Target(), CancellationToken.None);
        return Remember(new DeliveryAttempt(eventId, "webhook.test", null, null, clock.GetUtcNow(), 1, StatusOf(result), result.StatusCode,
            (int)result.Latency.TotalMilliseconds, result.Error, null));
    }

    public Task<DeliveryAttempt[]?> Deliveries(string? status)
    {
        if (Record.Settings is null)
        {
            return Task.FromResult<DeliveryAttempt[]?>(null);
        }
        var attempts = _recent.Concat(Record.Failures)
            .DistinctBy(a => (a.EventId, a.AttemptedAt, a.Attempt))
            .Where(a => status is null || a.Status == status)
            .OrderByDescending(a => a.AttemptedAt)
            .Take(KeptAttempts);
        return Task.FromResult<DeliveryAttempt[]?>([.. attempts]);
    }

    public async Task<DeliveryAttempt?> Redeliver(Guid eventId)
    {
        if (Record.Settings is null || (await events.ReadByIdsAsync([eventId], CancellationToken.None)) is not [var stored])
        {
            return null;
        }
        var result = await transport.SendAsync(Target(), stored, CancellationToken.None);
        var attempt = Remember(Attempt(stored, 1, result, StatusOf(result), nextAttemptAt: null));
        await state.WriteStateAsync();
        return attempt;
    }

    public Task Wake()
    {
        if (Record.Settings is null)
        {
            DeactivateOnIdle();
        }
        return Task.CompletedTask;
    }

    private void StartOrStopDelivering()
    {
        var deliver = Record.Settings is { Enabled: true };
        if (deliver && _timer is null)
        {
            _timer = this.RegisterGrainTimer(RoundAsync, new GrainTimerCreationOptions(Options.PollInterval, Options.PollInterval) { KeepAlive = true });
        }
        else if (!deliver && _timer is not null)
        {
            _timer.Dispose();
            _timer = null;
        }
    }

    /// <summary>One round: due retries, then the next events (unless stalled), then the record.</summary>
    private async Task RoundAsync(CancellationToken cancellationToken)
    {
        if (Record.Settings is not { Enabled: true } || YieldsToWrites())
        {
            return;
        }
        try
        {
            var changed = await RetryDueQueuesAsync(cancellationToken);
            // A full page means more is waiting (a receiver back after an outage, a burst): the
            // next is taken at once, its cursor stored page by page, for up to CatchUpTurn.
            var turnEnds = clock.GetUtcNow() + CatchUpTurn;
            while (Record.Stalled is not { } stalled || stalled.NextAttemptAt <= clock.GetUtcNow())
            {
                changed |= await DeliverNextAsync(cancellationToken);
                if (!_pageWasFull || Record.Stalled is not null || clock.GetUtcNow() >= turnEnds || IsBusy)
                {
                    break;
                }
                await state.WriteStateAsync(cancellationToken);
                changed = false;
            }
            changed |= DisableIfFailingTooLong();
            metrics.WebhookBacklog(this.GetPrimaryKey(), Record.Retrying.Values.Sum(line => line.EventIds.Count));
            if (changed)
            {
                await state.WriteStateAsync(cancellationToken);
            }
        }
        catch (InconsistentStateException)
        {
            // Another activation wrote (a membership change): continue from what it stored.
            await state.ReadStateAsync(cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The database is unavailable, most likely: the next round tries again from the stored cursor.
            LogRoundFailed(logger, exception.GetType().Name, this.GetPrimaryKey());
        }
        StartOrStopDelivering();
    }

    private bool IsBusy => Options.YieldAtWritesInFlight > 0 && load.WritesInFlight >= Options.YieldAtWritesInFlight;

    /// <summary>
    /// Whether this round waits for the node's writes. Where the node shares its CPU (with its
    /// database, or with the receiver), every delivery's work, ours and the receiver's, comes out
    /// of the writes' throughput when the CPU is saturated: deliveries take the slack instead, and
    /// delivery lag (<c>chatgrains.webhooks.delivery_lag</c>) shows what that costs them. One
    /// round still goes every <c>Webhooks:MaxYield</c>, so deliveries never stop however long the
    /// load lasts.
    /// </summary>
    private bool YieldsToWrites()
    {
        if (!IsBusy)
        {
            _yieldingSince = null;
            return false;
        }
        var now = clock.GetUtcNow();
        _yieldingSince ??= now;
        if (now - _yieldingSince < Options.MaxYield)
        {
            return true;
        }
        _yieldingSince = now;
        return false;
    }

    private async Task<bool> DeliverNextAsync(CancellationToken cancellationToken)
    {
        _pageWasFull = false;
        if (Record.Retrying.Count >= MaxRetryLines)
        {
            return false;
        }
        var types = Record.Settings!.Types.Length == 0 ? null : Record.Settings.Types;
        var page = await events.ReadAsync(Record.Cursor, BatchSize, types, cancellationToken);
        _pageWasFull = page.Events.Count == BatchSize;
        if (page.Events.Count == 0)
        {
            // Past events of other types: kept in memory, stored with the next change.
            Record.Cursor = page.Next;
            return false;
        }

        var groups = page.Events.GroupBy(QueueKey).Select(group => (Key: group.Key, Events: group.ToList())).ToList();
        var outcomes = await InParallelAsync(groups, group => Record.Retrying.ContainsKey(group.Key)
            ? Task.FromResult(new GroupOutcome(group.Key, Answered: false, Unsent: group.Events, Failure: null))
            : SendInOrderAsync(group.Key, group.Events, cancellationToken));

        var failures = outcomes.Where(o => o.Failure is not null).ToList();
        var now = clock.GetUtcNow();
        if (failures.Count > 0 && !outcomes.Any(o => o.Answered))
        {
            // Nothing got through: the receiver is down. Back off as a whole, take nothing.
            var stalled = Record.Stalled ??= new RetryLine { FirstFailedAt = now };
            stalled.Attempts++;
            if (now - stalled.FirstFailedAt < Options.RetryFor)
            {
                stalled.NextAttemptAt = now + Options.RetryDelay(stalled.Attempts, failures.Max(f => f.Failure!.Result.RetryAfter), Random.Shared.NextDouble());
                foreach (var failure in failures)
                {
                    Remember(failure.Failure!.Attempt with { Attempt = stalled.Attempts, NextAttemptAt = stalled.NextAttemptAt });
                }
                return true;
            }
            foreach (var failure in failures)
            {
                Remember(failure.Failure!.Attempt with
                {
                    Attempt = stalled.Attempts,
                    Status = DeliveryStatus.Dead,
                    Error = $"{failure.Failure.Attempt.Error ?? $"HTTP {failure.Failure.Attempt.StatusCode}"}; retried for {Options.RetryFor}",
                });
                foreach (var unsent in failure.Unsent.Skip(1))
                {
                    Remember(new DeliveryAttempt(unsent.Id, unsent.Type, unsent.ChatId, unsent.ChatSeq, now, 0, DeliveryStatus.Dead, null, 0,
                        $"Behind an event retried for {Options.RetryFor}", null));
                }
            }
            // What waited behind a chat already retrying still joins its queue.
            outcomes = [.. outcomes.Where(o => o.Failure is null)];
        }

        Record.Stalled = null;
        foreach (var outcome in outcomes.Where(o => o.Unsent.Count > 0))
        {
            if (Record.Retrying.TryGetValue(outcome.Key, out var queue))
            {
                queue.EventIds.AddRange(outcome.Unsent.Select(e => e.Id));
            }
            else
            {
                var line = Record.Retrying[outcome.Key] = new RetryLine
                {
                    EventIds = [.. outcome.Unsent.Select(e => e.Id)],
                    Attempts = 1,
                    FirstFailedAt = now,
                    NextAttemptAt = now + Options.RetryDelay(1, outcome.Failure?.Result.RetryAfter, Random.Shared.NextDouble()),
                };
                if (outcome.Failure is { } failure)
                {
                    Remember(failure.Attempt with { NextAttemptAt = line.NextAttemptAt });
                }
            }
        }
        Record.Cursor = page.Next;
        return true;
    }

    /// <summary>Sends a chat's events in order until one fails and may be retried: that one and the rest are returned unsent.</summary>
    private async Task<GroupOutcome> SendInOrderAsync(string key, List<StoredEvent> group, CancellationToken cancellationToken)
    {
        var answered = false;
        for (var i = 0; i < group.Count; i++)
        {
            var result = await transport.SendAsync(Target(), group[i], cancellationToken);
            answered |= result.Succeeded || result.IsFinal;
            if (result.Succeeded || result.IsFinal)
            {
                Remember(Attempt(group[i], 1, result, StatusOf(result), nextAttemptAt: null));
                MeasureLag(group[i], result);
                continue;
            }
            // Remembered once the round knows when it is tried next.
            return new GroupOutcome(key, answered, group[i..], new Failure(result, Attempt(group[i], 1, result, DeliveryStatus.Failed, nextAttemptAt: null)));
        }
        return new GroupOutcome(key, answered, [], null);
    }

    /// <summary>Tries each due retry queue from its first event, in order, until one fails again.</summary>
    private async Task<bool> RetryDueQueuesAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var due = Record.Retrying.Where(q => q.Value.NextAttemptAt <= now).ToList();
        if (due.Count == 0)
        {
            return false;
        }
        await InParallelAsync(due, async entry =>
        {
            var queue = entry.Value;
            var stored = (await events.ReadByIdsAsync(queue.EventIds, cancellationToken)).ToDictionary(e => e.Id);
            while (queue.EventIds.Count > 0)
            {
                if (!stored.TryGetValue(queue.EventIds[0], out var next))
                {
                    queue.EventIds.RemoveAt(0); // past the log's retention
                    continue;
                }
                var attempt = queue.Attempts + 1;
                var result = await transport.SendAsync(Target(), next, cancellationToken);
                var at = clock.GetUtcNow();
                if (result.Succeeded || result.IsFinal || at - queue.FirstFailedAt >= Options.RetryFor)
                {
                    var error = result.Succeeded || result.IsFinal ? result.Error : $"{result.Error ?? $"HTTP {result.StatusCode}"}; retried for {Options.RetryFor}";
                    Remember(Attempt(next, attempt, result with { Error = error }, result.Succeeded ? DeliveryStatus.Delivered : DeliveryStatus.Dead, null));
                    MeasureLag(next, result);
                    queue.EventIds.RemoveAt(0);
                    // The next event's first failure starts its own clock.
                    queue.Attempts = 0;
                    queue.FirstFailedAt = at;
                    continue;
                }
                queue.Attempts = attempt;
                queue.NextAttemptAt = at + Options.RetryDelay(attempt, result.RetryAfter, Random.Shared.NextDouble());
                Remember(Attempt(next, attempt, result, DeliveryStatus.Failed, queue.NextAttemptAt));
                return 0;
            }
            return 0;
        });
        foreach (var (key, queue) in due.Where(q => q.Value.EventIds.Count == 0))
        {
            Record.Retrying.Remove(key);
        }
        return true;
    }

    private bool DisableIfFailingTooLong()
    {
        var now = clock.GetUtcNow();
        if (Record.FailingSince is not { } since || now - since < Options.DisableAfter)
        {
            return false;
        }
        Record.Settings = Record.Settings! with { Enabled = false };
        Record.DisabledReason = $"Every delivery failed from {since:O} to {now:O} (Webhooks:DisableAfter); PATCH it with enabled: true to deliver again.";
        Record.Stalled = null;
        Record.UpdatedAt = now;
        LogDisabled(logger, this.GetPrimaryKey());
        return true;
    }

    private void MeasureLag(StoredEvent delivered, DeliveryResult result)
    {
        if (result.Succeeded)
        {
            metrics.Delivered(clock.GetUtcNow() - delivered.OccurredAt);
        }
    }

    /// <summary>Keeps the attempt for the listing, counts it, and tracks whether every delivery has been failing.</summary>
    private DeliveryAttempt Remember(DeliveryAttempt attempt)
    {
        metrics.Delivery(attempt.Status);
        _recent.AddFirst(attempt);
        while (_recent.Count > KeptAttempts)
        {
            _recent.RemoveLast();
        }
        if (attempt.Status == DeliveryStatus.Delivered)
        {
            Record.FailingSince = null;
        }
        else
        {
            Record.FailingSince ??= attempt.AttemptedAt;
            Record.Failures.Insert(0, attempt);
            if (Record.Failures.Count > KeptAttempts)
            {
                Record.Failures.RemoveRange(KeptAttempts, Record.Failures.Count - KeptAttempts);
            }
        }
        return attempt;
    }

    private DeliveryAttempt Attempt(StoredEvent stored, int attempt, DeliveryResult result, string status, DateTimeOffset? nextAttemptAt) =>
        new(stored.Id, stored.Type, stored.ChatId, stored.ChatSeq, clock.GetUtcNow(), attempt, status, result.StatusCode,
            (int)result.Latency.TotalMilliseconds, result.Error, nextAttemptAt);

    private static string StatusOf(DeliveryResult result) =>
        result.Succeeded ? DeliveryStatus.Delivered : result.IsFinal ? DeliveryStatus.Dead : DeliveryStatus.Failed;

    private WebhookTarget Target() => new(
        this.GetPrimaryKey(), Record.Settings!.Url, Record.ProtectedSecret,
        Record.PreviousSecretUntil > clock.GetUtcNow() ? Record.PreviousProtectedSecret : null);

    private Webhook View() => new(
        this.GetPrimaryKey(), Record.Settings!, Record.DisabledReason, Record.CreatedAt, Record.UpdatedAt, Record.FailingSince,
        Record.PreviousSecretUntil > clock.GetUtcNow() ? Record.PreviousSecretUntil : null,
        Record.Retrying.Values.Sum(q => q.EventIds.Count));

    /// <summary>A chat's events share a queue; an event without a chat is its own.</summary>
    private static string QueueKey(StoredEvent stored) => stored.ChatId?.ToString("N") ?? stored.Id.ToString("N");

    /// <summary>Runs the work at most <see cref="Parallelism"/> at a time, on the grain's scheduler (no thread-pool hop).</summary>
    private static async Task<List<TResult>> InParallelAsync<TItem, TResult>(IEnumerable<TItem> items, Func<TItem, Task<TResult>> work)
    {
        using var slots = new SemaphoreSlim(Parallelism);
        return [.. await Task.WhenAll(items.Select(async item =>
        {
            await slots.WaitAsync();
            try
            {
                return await work(item);
            }
            finally
            {
                slots.Release();
            }
        }))];
    }

    /// <summary>What sending a chat's events came to: whether the receiver answered any, and what is left from the first that failed.</summary>
    private sealed record GroupOutcome(string Key, bool Answered, List<StoredEvent> Unsent, Failure? Failure);

    private sealed record Failure(DeliveryResult Result, DeliveryAttempt Attempt);

    [LoggerMessage(LogLevel.Warning, "Webhook {WebhookId}: a delivery round failed ({Error}); the next round starts again from the stored cursor")]
    private static partial void LogRoundFailed(ILogger logger, string error, Guid webhookId);

    [LoggerMessage(LogLevel.Warning, "Webhook {WebhookId} disabled: every delivery failed for Webhooks:DisableAfter")]
    private static partial void LogDisabled(ILogger logger, Guid webhookId);
}
