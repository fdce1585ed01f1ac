namespace ChatGrains.Grains;

/// <summary>
/// Names the silo configuration gives its storage provider, and the state names under which each
/// grain kind's record is stored (<c>OrleansStorage.graintypestring</c>).
/// </summary>
public static class GrainStorage
{
    /// <summary>The ADO.NET provider that keeps every grain's record.</summary>
    public const string Name = "grains";

    public const string Chat = "chat";
    public const string GuestSession = "guestSession";
    public const string LiveChatSession = "liveChatSession";
    public const string Visitor = "visitor";
    public const string Commercial = "commercial";
    public const string ClientAddress = "clientAddress";
    public const string ChatHistoryPage = "chatHistoryPage";
    public const string OperatorSession = "operatorSession";
    public const string Webhook = "webhook";
    public const string WebhookRegistry = "webhookRegistry";
}
