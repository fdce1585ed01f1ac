using ChatGrains.ApiGateway.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Conversations;

public static class ConversationsHub
{
    public const string Path = "/hubs/livechat";

    public static IServiceCollection AddConversations(this IServiceCollection services)
    {
        // Its "Failed to invoke hub method" errors are mostly refusals of client mistakes; HubCallFilter logs the real failures.
        services.AddLogging(logging => logging.AddFilter("Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher", LogLevel.None));
        services.AddSingleton<IUserIdProvider, HubIdentity>();
        services.AddSingleton<ConversationRelay>();
        services.AddHubLimits();
        services.AddHostedService(sp => sp.GetRequiredService<ConversationRelay>());
        services.AddOptions<HubOptions>().Configure<IOptions<HubLimitsOptions>>((hub, limits) => hub.ClientTimeoutInterval = limits.Value.ClientTimeout);
        services.AddSingleton<HubLifetimeManager<LiveChatHub>, SilentClientTimeout>();
        services.AddSignalR(options =>
            {
                options.AddFilter<HubCallFilter>();
                // A message is at most 4,000 characters; its invocation fits in 32 KB with room.
                options.MaximumReceiveMessageSize = 32 * 1024;
            })
            // As the HTTP APIs: lone surrogates reach validation, markup is escaped in what is sent.
            .AddJsonProtocol(options => ApiJson.WithWireSettings(options.PayloadSerializerOptions));
        return services;
    }

    public static HubEndpointConventionBuilder MapConversations(this IEndpointRouteBuilder routes)
    {
        var hub = routes.MapHub<LiveChatHub>(Path, options =>
        {
            options.Transports = HttpTransportType.WebSockets | HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling;
            // A connection lives no longer than the token it was opened with.
            options.CloseOnAuthenticationExpiration = true;
        });
        // On the hub's own endpoints (negotiate and connect), so after authentication: endpoint filters do not run for hubs.
        hub.Add(endpoint => endpoint.RequestDelegate = HubLimits.RefuseConnectionsOverLimit(endpoint.RequestDelegate!));
        return hub;
    }
}

/// <summary>The OpenAPI document cannot describe a SignalR hub; it says where the hub and its protocol are.</summary>
public static class HubOpenApi
{
    public const string Description =
        "Real-time conversations run on the SignalR hub at " + ConversationsHub.Path +
        " (WebSockets; the token as access_token or Bearer): methods AcceptChat, SendMessage, MarkRead, JoinChat; " +
        "events chatOffered, chatTaken, chatAccepted, message, resync. The protocol (methods, events, error codes, " +
        "client snippets) is in the repository's README.md, section \"Real-time conversations: the hub at /hubs/livechat\".";

    public static Microsoft.AspNetCore.OpenApi.OpenApiOptions DescribeHub(this Microsoft.AspNetCore.OpenApi.OpenApiOptions options) =>
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Description = Description;
            return Task.CompletedTask;
        });
}
