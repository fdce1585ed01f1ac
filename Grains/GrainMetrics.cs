using System.Diagnostics.Metrics;

namespace ChatGrains.Grains;

/// <summary>
/// The service's own meter: grains created per kind, counted by the activation whose write
/// created the grain. Exported with the ASP.NET Core, runtime, Orleans and Npgsql meters.
/// </summary>
public sealed class GrainMetrics
{
    public const string MeterName = "ChatGrains";

    private readonly Counter<long> _created;

    public GrainMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _created = meter.CreateCounter<long>("chatgrains.grains.created", unit: "{grain}",
            description: "Grains created, by kind (chat, guestSession, liveChatSession).");
    }

    internal void Created(string kind) => _created.Add(1, new KeyValuePair<string, object?>("kind", kind));
}
