using ChatGrains.Grains;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatGrains.Silo;

/// <summary>Ready = the schema is migrated, the database answers a round trip now, and the silo is active.</summary>
internal sealed class NodeHealthCheck(IStorageProvider storage, StorageReadiness schema, SiloReadiness silo) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!schema.IsReady)
        {
            return HealthCheckResult.Unhealthy("schema not migrated yet");
        }
        if (!silo.IsActive)
        {
            return HealthCheckResult.Unhealthy("silo not active in the cluster");
        }
        try
        {
            await storage.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (Failures.IsStorageUnavailable(exception))
        {
            return HealthCheckResult.Unhealthy("database unreachable");
        }
    }
}
