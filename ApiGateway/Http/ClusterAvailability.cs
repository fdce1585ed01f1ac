using System.Diagnostics;
using ChatGrains.Grains;
using ChatGrains.Silo;
using Orleans.Runtime;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// When a request cannot be served by the cluster now — this node's silo is not active yet (or
/// any more), the database is down, a grain's silo died and membership has not declared it dead,
/// as <see cref="Failures.ShouldRetryLater"/> decides — the API answers 503 with Retry-After in its
/// own format (<see cref="ApiExceptionHandler"/>), never a hang or a 500.
/// <para>
/// A grain call that failed because a silo it needed is gone (the grain's host, or the owner of
/// its directory entry) is retried once as soon as the membership declares that silo dead, if that
/// happens within <see cref="MembershipWait"/>: then the grain answers from its new activation and
/// the caller never sees the failure. Otherwise the caller gets 503 and retries later.
/// </para>
/// </summary>
public static class ClusterAvailability
{
    /// <summary>How long a request waits for the membership to move past a dead silo (death is declared in ~3–6 s).</summary>
    public static readonly TimeSpan MembershipWait = TimeSpan.FromSeconds(7);

    /// <summary>A first attempt slower than this (a timed-out call) is not retried: the whole request stays under 10 s.</summary>
    private static readonly TimeSpan RetryableAttempt = TimeSpan.FromSeconds(2);

    /// <summary>Endpoints of this group call grains: outside the silo's active span they answer 503.</summary>
    public static TBuilder RequireActiveSilo<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(static async (context, next) =>
            await CallAsync(context.HttpContext, () => next(context).AsTask()));

    /// <summary>Runs grain calls for a request: 503 while the silo is not active, one retry after a silo death.</summary>
    public static Task<T> CallAsync<T>(HttpContext http, Func<Task<T>> call) =>
        CallAsync(http.RequestServices, call, http.RequestAborted);

    /// <summary>As <see cref="CallAsync{T}(HttpContext, Func{Task{T}})"/>, for callers that are not a request (hub calls).</summary>
    public static async Task<T> CallAsync<T>(IServiceProvider services, Func<Task<T>> call, CancellationToken aborted)
    {
        services.GetRequiredService<SiloReadiness>().EnsureActive();
        var membership = services.GetRequiredService<IClusterMembershipService>();
        var version = membership.CurrentSnapshot.Version;
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await call();
        }
        catch (Exception exception) when (Failures.IsSiloLost(exception) && Stopwatch.GetElapsedTime(started) < RetryableAttempt)
        {
            if (!await MembershipMovedAsync(membership, version, aborted))
            {
                throw;
            }
        }
        return await call();
    }

    private static async Task<bool> MembershipMovedAsync(IClusterMembershipService membership, MembershipVersion seen, CancellationToken aborted)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        wait.CancelAfter(MembershipWait);
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(wait.Token))
            {
                if (snapshot.Version > seen)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
        }
        return false;
    }
}
