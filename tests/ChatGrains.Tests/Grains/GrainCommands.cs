using System.Text.Json;
using ChatGrains.Grains;

namespace ChatGrains.Tests.Grains;

/// <summary>Commands as the HTTP edge sends them, told apart by the visitor's name.</summary>
internal static class GrainCommands
{
    public static CreateChat Chat(string visitor, ChatPriority priority = ChatPriority.Normal) => new(
        VisitorId: Guid.NewGuid(),
        Visitor: new Visitor(visitor, $"{visitor.Replace(' ', '.')}@example.com", City: "Jakarta"),
        AvailableCommercialIds: [Guid.NewGuid()],
        Priority: priority,
        Metadata: new ChatMetadata(Department: $"{visitor} department") { Tags = [visitor] });

    public static OpenGuestSession GuestSession(string guest) => new(guest, $"{guest.Replace(' ', '.')}@example.com", null);

    public static StartLiveChatSession LiveChatSession(string listener) => new(listener, "Bandung", "ID", TimeSpan.FromHours(1));

    /// <summary>Two records are the same when they serialise alike (their arrays are never the same instances across silos).</summary>
    public static void AssertSameRecord<T>(T expected, T actual) =>
        Assert.Equal(JsonSerializer.Serialize(expected), JsonSerializer.Serialize(actual));
}
