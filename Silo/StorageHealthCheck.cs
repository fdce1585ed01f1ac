using ChatGrains.Grains;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatGrains.Silo;

/// <summary>Ready = the schema is migrated and the database answers a round trip now.</summary>
internal sealed class StorageHealthCheck(IStorageProvider storage, StorageReadiness readiness) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!readiness.IsReady)
        {
            return HealthCheckResult.Unhealthy("schema not migrated yet");
        }
        try
        {
            await storage.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (StorageUnavailableException)
        {
            return HealthCheckResult.Unhealthy("database unreachable");
        }
    }
}
