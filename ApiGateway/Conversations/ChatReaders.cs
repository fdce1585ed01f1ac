using System.Security.Claims;
using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.Conversations;

/// <summary>
/// A caller as a chat reader, for the one rule (<see cref="ChatReader.MayRead"/>) that the hub's
/// <c>JoinChat</c> (decided in the chat grain) and a <c>PUT /v2/chats</c> replay share.
/// </summary>
public static class ChatReaders
{
    /// <summary>The caller as a reader, or null when its token makes it neither participant nor admin.</summary>
    public static ChatReader? Of(ClaimsPrincipal? user) =>
        HubIdentity.ParticipantOf(user) is { } participant ? ChatReader.Of(participant)
        : HubIdentity.IsAdmin(user) ? ChatReader.Admin
        : null;

    public static bool MayRead(ClaimsPrincipal? user, Chat chat) => Of(user)?.MayRead(chat) == true;
}
