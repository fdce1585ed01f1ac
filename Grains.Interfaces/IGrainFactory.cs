namespace ChatGrains.Grains;

/// <summary>Hands out grain references by key, the way Orleans' IGrainFactory does.</summary>
public interface IGrainFactory
{
    IChatGrain GetChatGrain(Guid chatId);

    IGuestSessionGrain GetGuestSessionGrain(string sessionKey);

    ILiveChatSessionGrain GetLiveChatSessionGrain(Guid sessionId);
}
