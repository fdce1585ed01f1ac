using System.Net;

namespace ChatGrains.Silo;

/// <summary><c>Orleans:*</c> configuration: who this silo is and where other silos reach it.</summary>
public sealed class OrleansSettings
{
    public const string Section = "Orleans";

    /// <summary>The membership deployment: silos with the same id on one database form one cluster.</summary>
    public string ClusterId { get; set; } = "chatgrains";

    /// <summary>Keys grain state in storage: it never changes for a deployment.</summary>
    public string ServiceId { get; set; } = "chatgrains";

    public int SiloPort { get; set; } = 11111;

    /// <summary>For external Orleans clients; 0 turns the gateway off (a co-hosted node needs none).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos reach this one at; loopback when unset (every node on one host).</summary>
    public string? AdvertisedIP { get; set; }

    public IPAddress AdvertisedAddress => string.IsNullOrWhiteSpace(AdvertisedIP) ? IPAddress.Loopback : IPAddress.Parse(AdvertisedIP);
}
