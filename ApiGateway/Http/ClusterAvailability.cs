using ChatGrains.Grains;
using ChatGrains.Silo;
using Orleans.Runtime;
using Orleans.Storage;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// When a request cannot be served by the cluster now — this node's silo is not active yet (or
/// any more), the database is down, a grain's silo died and membership has not declared it dead —
/// the API answers 503 with Retry-After in its own format, never a hang or a 500.
/// </summary>
public static class ClusterAvailability
{
    /// <summary>Endpoints of this group call grains: outside the silo's active span they answer 503.</summary>
    public static TBuilder RequireActiveSilo<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static (context, next) =>
        {
            context.HttpContext.RequestServices.GetRequiredService<SiloReadiness>().EnsureActive();
            return next(context);
        });

    /// <summary>True for failures that mean "retry later", as opposed to a bug.</summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is SiloUnavailableException or OrleansMessageRejectionException or InconsistentStateException)
            {
                return true;
            }
        }
        return StorageFailures.AreTransient(exception);
    }
}
