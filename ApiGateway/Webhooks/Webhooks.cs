using ChatGrains.Grains;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Webhooks;

public static class Webhooks
{
    /// <summary>The webhooks' HTTP client (no redirects, no cookies, every connection checked), secrets and options.</summary>
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>()
            .BindConfiguration(WebhookOptions.Section)
            .Validate(o => o.Timeout > TimeSpan.Zero && o.FirstRetryAfter > TimeSpan.Zero && o.MaxRetryInterval >= o.FirstRetryAfter,
                "Webhooks:Timeout and Webhooks:FirstRetryAfter must be positive, and Webhooks:MaxRetryInterval at least Webhooks:FirstRetryAfter.")
            .Validate(o => o.RetryFor > TimeSpan.Zero && o.DisableAfter > TimeSpan.Zero && o.RotationOverlap >= TimeSpan.Zero,
                "Webhooks:RetryFor and Webhooks:DisableAfter must be positive, Webhooks:RotationOverlap not negative.")
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.PollInterval <= TimeSpan.FromSeconds(5),
                "Webhooks:PollInterval must be positive and at most 5 seconds.")
            .Validate(o => o.YieldAtWritesInFlight >= 0 && o.MaxYield > TimeSpan.Zero,
                "Webhooks:YieldAtWritesInFlight must not be negative, Webhooks:MaxYield must be positive.")
            .ValidateOnStart();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<ApiLoad>();
        services.AddSingleton<IApiLoad>(sp => sp.GetRequiredService<ApiLoad>());
        services.AddSingleton<IWebhookTransport, WebhookTransport>();
        services.AddHostedService<WebhookKeepAlive>();
        services.AddHttpClient(WebhookTransport.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var allowPrivate = sp.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowPrivateNetworks;
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    UseCookies = false,
                    UseProxy = false,
                    ConnectTimeout = TimeSpan.FromSeconds(5),
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    ConnectCallback = (context, cancellationToken) => WebhookTransport.ConnectAsync(context, allowPrivate, cancellationToken),
                };
            })
            // The transport times each delivery itself (Webhooks:Timeout).
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            // The factory's default handlers log four lines per request at Information, with the
            // URL (which may carry a receiver's token): a busy webhook's log, and a leak. The
            // deliveries API and the webhook metrics say what happened.
            .RemoveAllLoggers();
        return services;
    }

    /// <summary>Counts the writes in flight (<see cref="ApiLoad"/>) that deliveries yield to.</summary>
    public static IApplicationBuilder UseApiLoad(this WebApplication app)
    {
        var load = app.Services.GetRequiredService<ApiLoad>();
        return app.Use((http, next) => ApiLoad.IsWrite(http.Request) ? load.TrackAsync(http, next) : next(http));
    }
}
