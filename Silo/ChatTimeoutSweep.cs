using ChatGrains.Grains;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatGrains.Silo;

/// <summary>
/// Asks the grain of each chat whose deadline has come (<see cref="IChatDeadlines"/>) to check its
/// timeouts; the grain decides, from what it holds, whether to warn, close or set a later
/// deadline. Every node sweeps: a claim moves its chats a lease ahead, so two nodes do not ask
/// about the same chat, and a node that dies holding a claim leaves it to the next sweep after
/// the lease.
/// </summary>
internal sealed partial class ChatTimeoutSweep(
    IChatDeadlines deadlines,
    IGrainFactory grains,
    SiloReadiness silo,
    IOptions<ChatTimeouts> options,
    TimeProvider clock,
    ILogger<ChatTimeoutSweep> logger) : BackgroundService
{
    // A claim is no larger than what one sweep asks at once, so a claimed chat never waits for
    // another batch to be asked about while its lease runs.
    private const int BatchSize = 256;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var timeouts = options.Value;
        using var timer = new PeriodicTimer(timeouts.TimeoutSweepInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!silo.IsActive)
            {
                continue;
            }
            try
            {
                IReadOnlyList<Guid> due;
                do
                {
                    due = await deadlines.ClaimDueAsync(clock.GetUtcNow(), timeouts.ClaimLease, BatchSize, stoppingToken);
                    await Task.WhenAll(due.Select(CheckAsync));
                }
                while (due.Count == BatchSize && !stoppingToken.IsCancellationRequested);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // The next tick claims again; a failed sweep only delays a timeout.
                LogSweepFailed(logger, exception.GetType().Name);
            }
        }
    }

    private async Task CheckAsync(Guid chatId)
    {
        try
        {
            await grains.GetGrain<IChatGrain>(chatId).CheckTimeouts();
        }
        catch (Exception exception)
        {
            // Its claim ends with the lease, and the chat is claimed again.
            LogCheckFailed(logger, exception.GetType().Name, chatId);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Chat timeout sweep failed ({Error}); retrying at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, string error);

    [LoggerMessage(LogLevel.Warning, "Chat {ChatId} could not check its timeouts ({Error}); it is claimed again after its lease")]
    private static partial void LogCheckFailed(ILogger logger, string error, Guid chatId);
}
