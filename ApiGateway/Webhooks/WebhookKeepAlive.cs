using ChatGrains.Grains;
using ChatGrains.Silo;

namespace ChatGrains.ApiGateway.Webhooks;

/// <summary>
/// Wakes every webhook's grain every few seconds, from every node: a grain whose node died (or a
/// cluster that restarted) is activated again on a live node, where its timer resumes delivering
/// from its stored cursor. A waking call to an active grain costs one message.
/// </summary>
internal sealed partial class WebhookKeepAlive(IGrainFactory grains, SiloReadiness silo, TimeProvider clock, ILogger<WebhookKeepAlive> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!silo.IsActive)
            {
                continue;
            }
            try
            {
                var ids = await grains.GetGrain<IWebhookRegistryGrain>(0).List();
                await Task.WhenAll(ids.Select(id => grains.GetGrain<IWebhookGrain>(id).Wake()));
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogWakeFailed(logger, exception.GetType().Name);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not wake the webhooks ({Error}); trying again shortly")]
    private static partial void LogWakeFailed(ILogger logger, string error);
}
