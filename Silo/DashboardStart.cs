using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;

namespace ChatGrains.Silo;

/// <summary>
/// Starts the Orleans dashboard's hosted service once the silo is active instead of beside it.
/// The node's hosted services start concurrently (Kestrel answers liveness while the silo joins),
/// and the dashboard's first grain calls, made before the silo could serve them, logged warnings
/// with stack traces on every healthy start (retries of "No active nodes are compatible with
/// grain dashboard", "Unable to activate silo grain service", a message for an unknown system target).
/// </summary>
internal static class DashboardStart
{
    /// <summary>The dashboard's hosted service (internal to Orleans.Dashboard), as <c>AddDashboard</c> registers it.</summary>
    private const string DashboardHost = "Orleans.Dashboard.DashboardHost";

    public static IServiceCollection StartDashboardOnceTheSiloIsActive(this IServiceCollection services)
    {
        var registered = services.Single(d => d.ServiceType == typeof(IHostedService) && ImplementationOf(d)?.FullName == DashboardHost);
        services.Remove(registered);
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(provider => new StartWhenActive(registered.ImplementationFactory is { } create
            ? (IHostedService)create(provider)
            : (IHostedService)ActivatorUtilities.CreateInstance(provider, registered.ImplementationType!)));
        return services;
    }

    private static Type? ImplementationOf(ServiceDescriptor descriptor) =>
        descriptor.IsKeyedService ? null : descriptor.ImplementationType ?? descriptor.ImplementationFactory?.Method.ReturnType;

    /// <summary>Runs the dashboard's host from the silo's Active stage, and stops and disposes it with the silo.</summary>
    private sealed class StartWhenActive(IHostedService dashboard) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(DashboardStart), ServiceLifecycleStage.Active, dashboard.StartAsync, StopAsync);

        private async Task StopAsync(CancellationToken cancellationToken)
        {
            await dashboard.StopAsync(cancellationToken);
            if (dashboard is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }
}
