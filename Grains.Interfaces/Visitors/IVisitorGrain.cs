namespace ChatGrains.Grains;

/// <summary>
/// One visitor, keyed by its visitorId (the <c>sub</c> of its session token): its connections, and
/// its open chats as a durable count for the whole cluster. Its
/// single activation takes one reservation at a time, so two creations racing at the cap cannot
/// both pass.
/// </summary>
[Alias("chatgrains.IVisitorGrain")]
public interface IVisitorGrain : IParticipantGrain
{
    /// <summary>
    /// Records <paramref name="chatId"/> as open unless the visitor already has
    /// <paramref name="maxOpen"/> open chats. A chat already recorded is admitted again without a write,
    /// so a retried creation never counts twice.
    /// </summary>
    [Alias("ReserveChat")]
    Task<ChatReservation> ReserveChat(Guid chatId, int maxOpen);

    /// <summary>Forgets a chat: its creation failed, or it closed.</summary>
    [Alias("ReleaseChat")]
    Task ReleaseChat(Guid chatId);
}

[GenerateSerializer, Immutable, Alias("chatgrains.ChatReservation")]
public sealed record ChatReservation(
    [property: Id(0)] bool Admitted,
    [property: Id(1)] int OpenChats);
