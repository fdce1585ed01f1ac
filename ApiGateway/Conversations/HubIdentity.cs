using System.Security.Claims;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using Microsoft.AspNetCore.SignalR;

namespace ChatGrains.ApiGateway.Conversations;

/// <summary>
/// Who a hub connection is: a visitor (its session token's <c>sub</c>, the guest user id) or a
/// commercial (its JWT's <c>sub</c>), as the participant the grains know. An admin, or a token
/// whose subject is not a UUID, connects but takes part in no conversation.
/// </summary>
public sealed class HubIdentity : IUserIdProvider
{
    public static Participant? ParticipantOf(ClaimsPrincipal? user)
    {
        if (user is null || !Guid.TryParseExact(user.FindFirstValue("sub"), "D", out var id))
        {
            return null;
        }
        // A token with both roles is not issued; admin wins so such a token cannot act as a participant.
        if (user.IsInRole(Roles.Admin))
        {
            return null;
        }
        if (user.IsInRole(Roles.Commercial))
        {
            return new Participant(ParticipantRole.Commercial, id);
        }
        return user.IsInRole(Roles.Visitor) ? new Participant(ParticipantRole.Visitor, id) : null;
    }

    /// <summary>The SignalR user id of a participant's connections, e.g. <c>commercial:8f0…</c>.</summary>
    public static string UserId(Participant participant) =>
        $"{(participant.Role == ParticipantRole.Visitor ? Roles.Visitor : Roles.Commercial)}:{participant.Id:D}";

    public string? GetUserId(HubConnectionContext connection) =>
        ParticipantOf(connection.User) is { } participant ? UserId(participant) : null;

    public static bool IsAdmin(ClaimsPrincipal? user) => user?.IsInRole(Roles.Admin) == true;
}
