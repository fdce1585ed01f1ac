namespace ChatGrains.ApiGateway.Chats;

/// <summary><c>Chats:*</c> configuration.</summary>
public sealed class ChatsOptions
{
    public const string Section = "Chats";

    /// <summary>Open (not CLOSED) chats a visitor may have opened with its own token; past it, creation answers 409.</summary>
    public int MaxOpenPerVisitor { get; set; } = 20;
}
