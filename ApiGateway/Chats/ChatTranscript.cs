using System.Globalization;
using System.Security.Claims;
using System.Text;
using ChatGrains.ApiGateway.Conversations;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.Chats;

/// <summary>A page of a chat's transcript as JSON: the chat, its messages, and where the next page starts (null: none).</summary>
public sealed record TranscriptPage(ChatResponse Chat, IReadOnlyList<MessageResource> Messages, long? NextAfterSeq);

/// <summary>
/// <c>GET /v2/chats/{chatId}/transcript?afterSeq=&amp;limit=</c>: the chat's messages, a page at a
/// time, as JSON or (<c>Accept: text/plain</c>) as readable text: one line per message, its time,
/// its sender's role and its text, the text's own lines indented.
/// </summary>
public static class ChatTranscript
{
    public const int DefaultLimit = 100;

    public static RouteGroupBuilder MapChatTranscript(this RouteGroupBuilder chats)
    {
        chats.MapGet("/{chatId}/transcript", Get)
            .WithName("GetChatTranscript")
            .WithSummary("A page of the chat's messages (its visitor, every commercial it was assigned to, admins), as JSON or text/plain.")
            .Produces<TranscriptPage>()
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem();
        return chats;
    }

    private static async Task<IResult> Get(string chatId, string? afterSeq, string? limit, HttpContext http, ClaimsPrincipal user, IGrainFactory grains)
    {
        var errors = new FieldErrors();
        var id = errors.Uuid("chatId", chatId);
        var after = errors.Whole("afterSeq", afterSeq, 0, 0, long.MaxValue);
        var count = (int)errors.Whole("limit", limit, DefaultLimit, 1, ChatHistory.MaxTranscriptMessages);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request has invalid fields.");
        }
        if (ChatReaders.Of(user) is not { } reader)
        {
            return TypedResults.Forbid();
        }
        var page = await grains.GetGrain<IChatGrain>(id).Transcript(reader, after, count);
        switch (page.Refusal)
        {
            case ConversationRefusal.NotFound:
                return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No chat has this id.");
            case ConversationRefusal.NotParticipant:
                return TypedResults.Forbid();
            case ConversationRefusal.OutOfRange:
                return TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["afterSeq"] = ["'afterSeq' must be a whole number from 0 to the chat's totalMessages."] },
                    title: "The request has invalid fields.");
        }
        var chat = page.Chat!;
        long? next = page.HasMore ? page.Messages[^1].Seq : null;
        return WantsText(http.Request)
            ? TypedResults.Text(AsText(chat, page.Messages, next), "text/plain; charset=utf-8")
            : TypedResults.Ok(new TranscriptPage(ChatResponse.From(chat), [.. page.Messages.Select(m => MessageResource.From(chat.Id, m))], next));
    }

    // Text only when asked for and preferred to JSON; JSON otherwise, as the rest of the API.
    private static bool WantsText(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        var text = accept.Where(a => a.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase)).Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        var json = accept.Where(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || a.MediaType.Equals("*/*", StringComparison.Ordinal))
            .Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        return text > 0 && text >= json;
    }

    private static string AsText(Chat chat, ConversationMessage[] messages, long? next)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Chat {chat.Id:D} ({chat.Status.ToString().ToUpperInvariant()}), {chat.TotalMessages} messages");
        if (messages.Length > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"; {messages[0].Seq}–{messages[^1].Seq} here");
        }
        text.Append('\n');
        foreach (var message in messages)
        {
            var role = message.SenderRole == ParticipantRole.Visitor ? "visitor" : "commercial";
            text.Append(CultureInfo.InvariantCulture, $"[{message.SentAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z] {role}: ");
            text.Append(message.Text.Replace("\n", "\n    ", StringComparison.Ordinal)).Append('\n');
        }
        if (next is { } after)
        {
            text.Append(CultureInfo.InvariantCulture, $"(more: afterSeq={after})\n");
        }
        return text.ToString();
    }
}
