using Orleans;
using System.Security.Claims;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Conversations;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ChatGrains.ApiGateway.Chats;

/// <summary>
/// <c>PUT /v2/chats/{chatId}</c>: idempotent chat creation (spec 004, in Spanish). Creating a
/// chat is limited (<see cref="ChatCreationLimiting"/>); replaying an existing one never is.
/// <c>GET /v2/chats/{chatId}</c> reads it back.
/// </summary>
public static class ChatsApi
{
    public const string UnknownCommercialMessage =
        "'availableCommercialIds' may name only commercials on duty or that have signed in before.";

    public static RouteGroupBuilder MapChatsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapV2Group("/v2/chats")
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        group.MapPut("/{chatId}", PutChat)
            .WithName("PutChat")
            .WithSummary("Creates the chat, or returns it unchanged if a chat with this id exists.")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        // Outside the group above: a GET carries no body, so no 413 or 415.
        routes.MapV2Group("/v2/chats").MapGet("/{chatId}", GetChat)
            .WithName("GetChat")
            .WithSummary("The chat as PUT returns it, for whom the hub lets read it: its visitor, the commercials it is offered (while PENDING) or assigned to, admins.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem();
        group.MapChatLifecycle();
        group.MapChatTranscript();
        return group;
    }

    private static async Task<Results<Ok<ChatResponse>, ValidationProblem, ForbidHttpResult, ProblemHttpResult>> GetChat(
        string chatId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var id = errors.Uuid("chatId", chatId);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request has invalid fields.");
        }
        if (await grains.GetGrain<IChatGrain>(id).Current() is not { } chat)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No chat has this id.");
        }
        // The same readers as a PUT replay and the hub's JoinChat.
        return ChatReaders.MayRead(user, chat) ? TypedResults.Ok(ChatResponse.From(chat)) : TypedResults.Forbid();
    }

    private static async Task<Results<Ok<ChatResponse>, ValidationProblem, ForbidHttpResult, ProblemHttpResult>> PutChat(
        string chatId,
        CreateChatRequest request,
        ClaimsPrincipal user,
        HttpContext http,
        IGrainFactory grains,
        ChatCreationLimiting limiting)
    {
        var errors = new FieldErrors();
        var id = errors.Uuid("chatId", chatId);
        var command = request.ToCommand(errors);
        if (command is null || !errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request has invalid fields.");
        }

        // A visitor acts only for itself: it may open, and read back, its own chats only.
        var ownVisitorId = VisitorScope(user);
        if (ownVisitorId is not null && command.VisitorId != ownVisitorId)
        {
            return TypedResults.Forbid();
        }

        var limits = limiting.For(http, user);
        var opening = await grains.GetGrain<IChatGrain>(id).Open(command, limits);
        ChatCreationLimiting.WriteHeaders(http.Response, limits, opening);
        switch (opening.Refusal)
        {
            case ChatRefusal.RateLimited:
                http.RequestServices.GetRequiredService<RateLimitMetrics>().Rejected("chat-creation");
                return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many chats created by this client; retry later.");
            case ChatRefusal.VisitorAtCap:
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                    title: $"The visitor has reached the maximum of {limits.MaxOpenPerVisitor} open chats.");
            case ChatRefusal.ClientAddressAtCap:
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict,
                    title: $"This client address has reached the maximum of {limits.ClientAddressCap!.MaxPending} pending chats.");
            case ChatRefusal.UnknownCommercial:
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["availableCommercialIds"] = [UnknownCommercialMessage] },
                    title: "The request has invalid fields.");
        }
        var chat = opening.Chat!;
        // A replay answers the whole resource (the visitor's contact details) only to whom the
        // hub lets read the chat: one authorization model for both.
        if (!opening.Created && !ChatReaders.MayRead(user, chat))
        {
            return TypedResults.Forbid();
        }
        return TypedResults.Ok(ChatResponse.From(chat));
    }

    /// <summary>
    /// A group of the v2 API: a bearer token of any of its roles, problem details for errors, 503
    /// while the node's silo is not active.
    /// </summary>
    internal static RouteGroupBuilder MapV2Group(
        this IEndpointRouteBuilder routes, string prefix, string tag = "Chats (v2)", string policy = AuthExtensions.ChatParticipantPolicy) =>
        routes.MapGroup(prefix)
            .WithTags(tag)
            .RequireAuthorization(policy)
            .WithErrorFormat(ProblemDetailsFormat.Instance)
            .RequireActiveSilo()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status500InternalServerError);

    /// <summary>The visitor id a caller is confined to, or null when its role sees every chat.</summary>
    private static Guid? VisitorScope(ClaimsPrincipal user)
    {
        if (user.IsInRole(Roles.Admin) || user.IsInRole(Roles.Commercial))
        {
            return null;
        }
        // A visitor whose subject is not a UUID owns no chat at all.
        return Guid.TryParseExact(user.FindFirstValue("sub"), "D", out var sub) ? sub : Guid.Empty;
    }
}
