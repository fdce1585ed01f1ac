using System.Security.Claims;
using ChatGrains.ApiGateway.Conversations;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.Chats;

/// <summary>A commercial's chats, newest change first.</summary>
public sealed record CommercialChats(IReadOnlyList<ChatResponse> Chats);

/// <summary>
/// <c>GET /v2/commercials/me/chats</c> (a commercial's own) and <c>GET /v2/commercials/{id}/chats</c>
/// (admins): what an agent's console shows on load — the chats offered to it and still PENDING,
/// those assigned to it and ACTIVE, and its last 100 closed.
/// </summary>
public static class CommercialChatsApi
{
    public const int MaxLimit = 100;

    public static RouteGroupBuilder MapCommercialChatsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapV2Group("/v2/commercials");
        group.MapGet("/{commercialId}/chats", List)
            .WithName("ListCommercialChats")
            .WithSummary("The commercial's chats ('me': the caller's own; another id: admins only), newest change first, optionally of one status.")
            .Produces<CommercialChats>()
            .ProducesValidationProblem();
        return group;
    }

    private static async Task<IResult> List(string commercialId, string? status, string? limit, ClaimsPrincipal user, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var me = HubIdentity.ParticipantOf(user) is { Role: ParticipantRole.Commercial } commercial ? commercial.Id : (Guid?)null;
        var id = commercialId == "me" ? me ?? Guid.Empty : errors.Uuid("commercialId", commercialId);
        var wanted = Status(errors, status);
        var count = (int)errors.Whole("limit", limit, MaxLimit, 1, MaxLimit);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request has invalid fields.");
        }
        // A commercial reads its own list; admins any; nobody else (a visitor has no list).
        if (id == Guid.Empty || (id != me && !HubIdentity.IsAdmin(user)))
        {
            return TypedResults.Forbid();
        }
        var chats = await grains.GetGrain<ICommercialGrain>(id).Chats(wanted);
        return TypedResults.Ok(new CommercialChats([.. chats.Take(count).Select(ChatResponse.From)]));
    }

    private static ChatStatus? Status(FieldErrors errors, string? status)
    {
        switch (status)
        {
            case null:
                return null;
            case "PENDING":
                return ChatStatus.Pending;
            case "ACTIVE":
                return ChatStatus.Active;
            case "CLOSED":
                return ChatStatus.Closed;
            default:
                errors.Add("status", "'status' must be PENDING, ACTIVE or CLOSED.");
                return null;
        }
    }
}
