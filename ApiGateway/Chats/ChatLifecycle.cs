using System.Security.Claims;
using System.Text.Json;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Conversations;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Chats;

/// <summary>The body of <c>POST /v2/chats/{chatId}/close</c> (optional).</summary>
public sealed record CloseChatRequest(string? Reason);

/// <summary>The body of <c>POST /v2/chats/{chatId}/rating</c>; the rating is read as any JSON value, so "3" and 3.5 are refused by name.</summary>
public sealed record RateChatRequest(JsonElement? Rating, string? Comment);

/// <summary>The visitor's rating, as <c>POST /v2/chats/{chatId}/rating</c> answers it and the chat resource shows it.</summary>
public sealed record RatingResource(
    int Rating,
    string? Comment,
    int Episode,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset RatedAt)
{
    public static RatingResource? From(ChatRating? rating) =>
        rating is null ? null : new RatingResource(rating.Score, rating.Comment, rating.Episode, rating.RatedAt);
}

/// <summary>
/// Closing, reopening and rating a chat, over HTTP (<c>/v2/chats/{chatId}/…</c>) and the hub
/// alike: the checks of the arguments and who the caller is, here; every decision, the chat grain's.
/// </summary>
public static class ChatLifecycle
{
    public const int MaxCloseReasonLength = 500;
    public const int MaxCommentLength = 1000;

    /// <summary>The caller as whoever changes a chat: a visitor, a commercial or an admin (null: none of them).</summary>
    public static ChatActor? ActorOf(ClaimsPrincipal? user) =>
        HubIdentity.ParticipantOf(user) is { } participant
            ? new ChatActor(participant.Role == ParticipantRole.Visitor ? ChatActorRole.Visitor : ChatActorRole.Commercial, participant.Id.ToString("D"))
            : HubIdentity.IsAdmin(user) ? new ChatActor(ChatActorRole.Admin, user!.FindFirstValue("sub"))
            : null;

    public static string? CloseReason(FieldErrors errors, string? reason) => errors.Text("reason", reason, MaxCloseReasonLength);

    public static (int Score, string? Comment) Rating(FieldErrors errors, JsonElement? rating, string? comment)
    {
        var score = 0;
        if (rating is not { ValueKind: JsonValueKind.Number } number || !number.TryGetInt32(out score) || score is < 1 or > 5)
        {
            errors.Add("rating", "'rating' must be a whole number from 1 to 5.");
        }
        return (score, errors.Text("comment", comment, MaxCommentLength));
    }

    public static RouteGroupBuilder MapChatLifecycle(this RouteGroupBuilder chats)
    {
        chats.MapPost("/{chatId}/close", Close)
            .WithName("CloseChat")
            .WithSummary("Closes the chat (its visitor, its assigned commercial or an admin); closing it again answers it unchanged.")
            .Produces<ChatResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem();
        chats.MapPost("/{chatId}/reopen", Reopen)
            .WithName("ReopenChat")
            .WithSummary("The visitor reopens its closed chat within Chats:ReopenWindow: PENDING again, offered again.")
            .Produces<ChatResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        chats.MapPost("/{chatId}/rating", Rate)
            .WithName("RateChat")
            .WithSummary("The visitor rates the episode that closed last, once.")
            .Produces<RatingResource>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem();
        return chats;
    }

    private static async Task<IResult> Close(
        string chatId,
        [FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] CloseChatRequest? request,
        ClaimsPrincipal user,
        IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var id = errors.Uuid("chatId", chatId);
        var reason = CloseReason(errors, request?.Reason);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request has invalid fields.");
        }
        if (ActorOf(user) is not { } actor)
        {
            return TypedResults.Forbid();
        }
        return Answer(await grains.GetGrain<IChatGrain>(id).Close(actor, reason), chat => TypedResults.Ok(ChatResponse.From(chat)));
    }

    private static async Task<IResult> Reopen(string chatId, ClaimsPrincipal user, IGrainFactory grains, IOptions<ChatsOptions> options)
    {
        var errors = new FieldErrors();
        var id = errors.Uuid("chatId", chatId);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request has invalid fields.");
        }
        if (HubIdentity.ParticipantOf(user) is not { Role: ParticipantRole.Visitor } visitor)
        {
            return TypedResults.Forbid();
        }
        var outcome = await grains.GetGrain<IChatGrain>(id).Reopen(visitor.Id, options.Value.ReopenWindow, options.Value.MaxOpenPerVisitor);
        return Answer(outcome, chat => TypedResults.Ok(ChatResponse.From(chat)));
    }

    private static async Task<IResult> Rate(string chatId, RateChatRequest request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var id = errors.Uuid("chatId", chatId);
        var (score, comment) = Rating(errors, request.Rating, request.Comment);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request has invalid fields.");
        }
        if (HubIdentity.ParticipantOf(user) is not { Role: ParticipantRole.Visitor } visitor)
        {
            return TypedResults.Forbid();
        }
        var outcome = await grains.GetGrain<IChatGrain>(id).Rate(visitor.Id, score, comment);
        return Answer(outcome, chat => TypedResults.Created($"/v2/chats/{chat.Id:D}/rating", RatingResource.From(chat.Rating)));
    }

    private static IResult Answer(ChatOutcome outcome, Func<Chat, IResult> success) => outcome.Refusal switch
    {
        null => success(outcome.Chat!),
        ConversationRefusal.NotFound => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No chat has this id."),
        ConversationRefusal.NotParticipant => TypedResults.Forbid(),
        var refusal => Conflict(refusal.Value),
    };

    // The hub's code for the same refusal, so a client handles both the same way.
    private static ProblemHttpResult Conflict(ConversationRefusal refusal)
    {
        var (code, message) = HubErrors.CodeOf(refusal);
        return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: message,
            extensions: new Dictionary<string, object?> { ["code"] = code });
    }
}
