namespace ChatGrains.Grains;

/// <summary>
/// Grains hold no memory between calls (their state is the database row), so a reference is
/// a cheap object made per call: there is no activation, directory or placement to consult.
/// </summary>
public sealed class GrainFactory(
    IChatStore chats,
    IGuestSessionStore guestSessions,
    ILiveChatSessionStore liveChatSessions,
    GrainCreations creations,
    TimeProvider clock) : IGrainFactory
{
    public IChatGrain GetChatGrain(Guid chatId) => new ChatGrain(chatId, chats, creations, clock);

    public IGuestSessionGrain GetGuestSessionGrain(string sessionKey) => new GuestSessionGrain(sessionKey, guestSessions, creations, clock);

    public ILiveChatSessionGrain GetLiveChatSessionGrain(Guid sessionId) => new LiveChatSessionGrain(sessionId, liveChatSessions, creations, clock);
}
