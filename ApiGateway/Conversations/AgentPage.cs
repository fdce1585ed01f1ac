using ChatGrains.ApiGateway.Http;

namespace ChatGrains.ApiGateway.Conversations;

/// <summary>The agent console at <c>/agent</c>: a commercial signs in with its JWT and takes chats on the hub.</summary>
public static class AgentPage
{
    public static RouteHandlerBuilder MapAgentPage(this IEndpointRouteBuilder routes) => routes.MapStaticPage("/agent", "agent");
}
