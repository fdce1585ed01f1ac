using System.Text.Json;
using System.Text.Json.Serialization;
using ChatGrains.ApiGateway.Chats;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.Conversations;

/// <summary>The <c>message</c> event, and what <c>SendMessage</c> returns.</summary>
public sealed record MessageResource(
    Guid ChatId,
    long Seq,
    Guid Id,
    ParticipantRole SenderRole,
    Guid SenderId,
    string Text,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset SentAt)
{
    public static MessageResource From(Guid chatId, ConversationMessage message) =>
        new(chatId, message.Seq, message.Id, message.SenderRole, message.SenderId, message.Text, message.SentAt);
}

/// <summary>The <c>chatTaken</c> event: another commercial accepted a chat offered to this one.</summary>
public sealed record ChatIdResource(Guid ChatId);

/// <summary>The <c>chatIdle</c> event: the chat closes as INACTIVITY at <c>closesAt</c> unless a message is sent first.</summary>
public sealed record ChatIdleResource(Guid ChatId, [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset ClosesAt);

/// <summary>What <c>JoinChat</c> returns: the chat and its messages after the given sequence number.</summary>
public sealed record JoinedChat(ChatResponse Chat, IReadOnlyList<MessageResource> Messages, bool HasMore);

/// <summary>Hub method arguments, checked as the HTTP APIs check theirs.</summary>
internal static class HubArguments
{
    public const int MaxTextLength = 4000;

    public static Guid Uuid(string field, string? value)
    {
        var errors = new FieldErrors();
        var id = errors.Uuid(field, value);
        return errors.IsEmpty ? id : throw HubErrors.Invalid(errors);
    }

    /// <summary>
    /// A message sequence number: a whole JSON number, not negative. Its upper bound (the chat's
    /// total) is the chat grain's to check; a long is all it needs to hold.
    /// </summary>
    public static long Sequence(string field, JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seq) && seq >= 0
            ? seq
            : throw HubErrors.Invalid($"'{field}' must be a whole number from 0 to the chat's totalMessages.");

    /// <summary>
    /// 1–4,000 characters, not blank; no control characters but the newline, no unpaired
    /// surrogates, no invisible format or separator characters but joiners inside words.
    /// </summary>
    public static string Text(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxTextLength)
        {
            throw HubErrors.Invalid($"'text' must be 1–{MaxTextLength:N0} characters and not blank.");
        }
        if (text.Any(c => char.IsControl(c) && c != '\n'))
        {
            throw HubErrors.Invalid("'text' must not contain control characters other than the newline.");
        }
        if (FieldErrors.HasUnpairedSurrogates(text))
        {
            throw HubErrors.Invalid(FieldErrors.UnpairedSurrogateMessage("text"));
        }
        if (FieldErrors.HasSpoofingCharactersOutsideWords(text))
        {
            throw HubErrors.Invalid("'text' must not contain invisible format characters or line or paragraph separators (a zero-width joiner or non-joiner only inside a word).");
        }
        return text;
    }
}
