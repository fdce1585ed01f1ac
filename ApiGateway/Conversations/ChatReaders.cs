using System.Security.Claims;
using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.Conversations;

/// <summary>
/// Who may read a chat, its visitor's contact details included — through the hub's
/// <c>JoinChat</c> and a <c>PUT /v2/chats</c> replay alike: its visitor, its assigned commercial,
/// the commercials it is offered to while PENDING, and admins.
/// </summary>
public static class ChatReaders
{
    public static bool MayRead(ClaimsPrincipal? user, Chat chat) => HubIdentity.ParticipantOf(user) switch
    {
        { Role: ParticipantRole.Visitor } visitor => chat.VisitorId == visitor.Id,
        { Role: ParticipantRole.Commercial } commercial => chat.AssignedCommercialId == commercial.Id
            || (chat.Status == ChatStatus.Pending && chat.AvailableCommercialIds.Contains(commercial.Id)),
        _ => HubIdentity.IsAdmin(user),
    };
}
