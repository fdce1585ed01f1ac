using ChatGrains.Grains;
using ChatGrains.Silo.Membership;
using ChatGrains.Silo.Postgres;
using ChatGrains.Silo.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ChatGrains.Silo;

public static class SiloServiceCollectionExtensions
{
    /// <summary>
    /// The silo: storage (PostgreSQL when <c>ConnectionStrings:ChatGrains</c> is set, else SQLite),
    /// migrations, readiness and the grain factory.
    /// </summary>
    public static IServiceCollection AddChatSilo(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<StorageReadiness>();
        services.AddSingleton<SiloIdentity>();

        var connectionString = configuration.GetConnectionString(StorageOptions.ConnectionStringName);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            services.AddSingleton(sp => PostgresStorage.CreateDataSource(connectionString, sp.GetRequiredService<SiloIdentity>().NodeId));
            services.AddSingleton<IStorageProvider, PostgresStorage>();
            services.AddSingleton<IChatStore, PostgresChatStore>();
            services.AddSingleton<IGuestSessionStore, PostgresGuestSessionStore>();
            services.AddSingleton<ILiveChatSessionStore, PostgresLiveChatSessionStore>();
            services.AddSingleton<IRateLimitStore, PostgresRateLimitStore>();
            services.AddHostedService<RateLimitJanitor>();
            services.AddSingleton<IMembershipStore, PostgresMembershipStore>();
        }
        else
        {
            services.AddSingleton(sp => new SqliteStorage(sp.GetRequiredService<IOptions<StorageOptions>>().Value.SqlitePath));
            services.AddSingleton<IStorageProvider>(sp => sp.GetRequiredService<SqliteStorage>());
            services.AddSingleton<IChatStore, SqliteChatStore>();
            services.AddSingleton<IGuestSessionStore, SqliteGuestSessionStore>();
            services.AddSingleton<ILiveChatSessionStore, SqliteLiveChatSessionStore>();
            services.AddSingleton<IRateLimitStore, InMemoryRateLimitStore>();
            services.AddSingleton<IMembershipStore, SqliteMembershipStore>();
        }

        services.AddSingleton<GrainCreations>();
        services.AddSingleton<IGrainFactory, GrainFactory>();
        services.AddHostedService<SchemaMigrationService>();
        services.AddOptions<MembershipOptions>()
            .BindConfiguration(MembershipOptions.Section)
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero && o.DeadAfter > o.HeartbeatInterval,
                "Cluster:HeartbeatInterval must be positive and Cluster:DeadAfter longer than it.")
            .ValidateOnStart();
        services.AddHostedService<MembershipService>();
        services.AddHealthChecks().AddCheck<StorageHealthCheck>("storage", tags: ["ready"]);
        return services;
    }
}
