using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Captcha;
using ChatGrains.ApiGateway.Chats;
using ChatGrains.ApiGateway.Conversations;
using ChatGrains.ApiGateway.Dashboard;
using ChatGrains.ApiGateway.Events;
using ChatGrains.ApiGateway.GuestSessions;
using ChatGrains.ApiGateway.Http;
using ChatGrains.ApiGateway.LiveChat;
using ChatGrains.ApiGateway.Webhooks;
using ChatGrains.Silo;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace ChatGrains.ApiGateway;

/// <summary>
/// Composes a node: the HTTP edge, the grains and the silo services in one process.
/// Tests build nodes through here too, so a test node is the real thing on a real port.
/// </summary>
public static class ChatGrainsApp
{
    public const string DefaultUrl = "http://localhost:5080";
    private const long DefaultMaxRequestBodySize = 64 * 1024;

    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json is read from beside the binary, whatever the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (string.IsNullOrWhiteSpace(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
            kestrel.Limits.MaxRequestBodySize =
                context.Configuration.GetValue<long?>("Kestrel:Limits:MaxRequestBodySize") ?? DefaultMaxRequestBodySize);

        // SIGTERM: stop accepting, let in-flight requests finish (bounded), then the silo leaves the
        // cluster (its grains deactivate; their state is already stored), exit 0.
        builder.Services.Configure<HostOptions>(options =>
            options.ShutdownTimeout = builder.Configuration.GetValue("Cluster:ShutdownTimeout", TimeSpan.FromSeconds(10)));

        builder.Logging.ClearProviders().AddJsonConsole(options =>
        {
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        // Its "Request starting" line carries the query string, where SignalR clients put the
        // access token: kept off whatever the configuration says.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);

        builder.UseChatGrainsSilo();
        builder.Services.AddChatAuth(builder.Configuration);
        builder.Services.AddApiErrors();
        builder.Services.AddTracing();
        builder.Services.AddOpenApi(options => options.AddBearerSecurity().DescribeLenientStringsAsStrings().DescribeHub());
        builder.Services.AddOperatorAccess();
        builder.Services.AddTelemetry(builder.Configuration);
        builder.Services.AddTrustedProxies(builder.Configuration);
        builder.Services.AddSessionRateLimiting();
        builder.Services.AddChatCreationLimiting();
        builder.Services.AddConversations();
        builder.Services.AddSingleton<EventEnvelopes>();
        builder.Services.AddWebhooks();
        builder.Services.AddCaptcha(builder.Configuration);
        builder.Services.AddLiveChatPage();
        builder.Services.ConfigureHttpJsonOptions(options => ApiJson.WithWireSettings(options.SerializerOptions));
        configure?.Invoke(builder);

        var app = builder.Build();
        // Fail at start, not at the first request, when the signing key is missing or unreadable.
        _ = app.Services.GetRequiredService<SigningKeys>();

        // First, so a write counts for as long as the node works on it.
        app.UseApiLoad();
        app.UseSecurityHeaders();
        app.UseTrustedProxies();
        app.UseTraceIdHeader();
        app.UseExceptionHandler();
        // HTML files get the pages' policy also when fetched by name (/livechat/index.html): UseSecurityHeaders.
        app.UseStaticFiles();
        app.UseApiStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseOperatorAccess();
        app.UseAntiforgery();
        app.UseSessionRateLimiting();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        app.MapOpenApi();
        app.UseSwaggerUI(options =>
        {
            options.SwaggerEndpoint("/openapi/v1.json", "ChatGrains v1");
            options.RoutePrefix = "swagger";
        });
        app.MapJwks();
        app.MapChatsApi();
        app.MapCommercialChatsApi();
        app.MapEventsApi();
        app.MapWebhooksApi();
        app.MapConversations();
        app.MapGuestSessionsApi();
        app.MapLiveChatApi();
        app.MapLiveChatPage();
        app.MapAgentPage();
        // An index of the service's pages and documents, rather than a 404.
        app.MapStaticPage("/", "home");
        app.MapOperators();
        return app;
    }
}
