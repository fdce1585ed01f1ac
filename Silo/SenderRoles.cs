using ChatGrains.Grains;

namespace ChatGrains.Silo;

/// <summary>A message's sender role as its row stores it: the word the wire uses, readable with SQL.</summary>
internal static class SenderRoles
{
    public static string Name(ParticipantRole role) => role switch
    {
        ParticipantRole.Visitor => "visitor",
        ParticipantRole.Commercial => "commercial",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    public static ParticipantRole Parse(string name) => name switch
    {
        "visitor" => ParticipantRole.Visitor,
        "commercial" => ParticipantRole.Commercial,
        _ => throw new FormatException($"Unknown sender role '{name}'."),
    };
}
