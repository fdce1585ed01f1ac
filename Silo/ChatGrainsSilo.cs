using System.Text.Json;
using ChatGrains.Grains;
using ChatGrains.Silo.Postgres;
using ChatGrains.Silo.Sqlite;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace ChatGrains.Silo;

/// <summary>
/// The silo a node co-hosts. With <c>ConnectionStrings:ChatGrains</c>: ADO.NET clustering and
/// grain storage on that PostgreSQL database, so every node with the same cluster id joins one
/// cluster. Without it: one node, localhost clustering and grain storage in the SQLite file.
/// </summary>
public static class ChatGrainsSilo
{
    /// <summary>ADO.NET invariant of the SQLite provider (served by Microsoft.Data.Sqlite; the package's own name fails at start).</summary>
    private const string SqliteInvariant = "System.Data.SQLite";

    public static IHostApplicationBuilder UseChatGrainsSilo(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.UseOrleans(silo => silo
            .UseChatGrainsClustering(configuration)
            .AddChatGrains(configuration)
            // The live trace can show request data: hidden unless Dashboard:HideTrace is false.
            .AddDashboard(options =>
            {
                options.HideTrace = true;
                configuration.GetSection("Dashboard").Bind(options);
            })
            .Services.StartDashboardOnceTheSiloIsActive());
        builder.Services.AddHealthChecks().AddCheck<NodeHealthCheck>("node", tags: ["ready"]);
        AddDataProtectionKeys(builder.Services, configuration);
        // Kestrel listens while the silo migrates and joins (which waits for the database):
        // liveness answers at once, readiness and the APIs answer 503 until the silo is active.
        builder.Services.Configure<HostOptions>(options => options.ServicesStartConcurrently = true);
        return builder;
    }

    /// <summary>
    /// Where ASP.NET Core keeps the keys that encrypt the dashboard cookie and antiforgery tokens:
    /// in the cluster's database, so every node reads what another wrote; in the data folder of a
    /// single node, so a restart keeps them.
    /// </summary>
    private static void AddDataProtectionKeys(IServiceCollection services, IConfiguration configuration)
    {
        var dataProtection = services.AddDataProtection().SetApplicationName("chatgrains");
        if (StorageOptions.IsClustered(configuration))
        {
            services.AddSingleton<IXmlRepository, PostgresKeyRepository>();
            services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
                new ConfigureOptions<KeyManagementOptions>(options => options.XmlRepository = sp.GetRequiredService<IXmlRepository>()));
        }
        else
        {
            // PersistKeysToFileSystem would let the repository create the folder with the umask's mode;
            // the key files are 0600 already, the folder is made 0700 first, when the keys are first read.
            var storage = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
            var keys = Path.Combine(storage.DataDirectory, "keys");
            services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
                new ConfigureOptions<KeyManagementOptions>(options => options.XmlRepository =
                    new FileSystemXmlRepository(new DirectoryInfo(PrivateFiles.CreateFolder(keys)), sp.GetRequiredService<ILoggerFactory>())));
        }
    }

    /// <summary>Membership and endpoints: the part a test cluster replaces with its own.</summary>
    public static ISiloBuilder UseChatGrainsClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var settings = configuration.GetSection(OrleansSettings.Section).Get<OrleansSettings>() ?? new OrleansSettings();
        if (!StorageOptions.IsClustered(configuration))
        {
            return silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
        }
        silo.Configure<ClusterOptions>(options =>
        {
            options.ClusterId = settings.ClusterId;
            options.ServiceId = settings.ServiceId;
        });
        silo.ConfigureEndpoints(settings.AdvertisedAddress, settings.SiloPort, settings.GatewayPort);
        silo.UseAdoNetClustering(options => options.Configure<NpgsqlDataSource>((clustering, dataSource) =>
        {
            clustering.Invariant = "Npgsql";
            clustering.DataSource = dataSource;
        }));
        return silo;
    }

    /// <summary>Grains, their storage, the event log, migrations and the timeouts that bound a failure.</summary>
    public static ISiloBuilder AddChatGrains(this ISiloBuilder silo, IConfiguration configuration)
    {
        var services = silo.Services;
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<StorageReadiness>();
        services.TryAddSingleton<SiloIdentity>();
        services.TryAddSingleton<SiloReadiness>();
        services.TryAddSingleton<GrainMetrics>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SiloReadiness>());
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SchemaMigrations>();
        services.AddOptions<SessionOptions>()
            .BindConfiguration(SessionOptions.Section)
            .Validate(o => o.Retention > TimeSpan.Zero, "Sessions:Retention must be positive (a TimeSpan such as 30.00:00:00).")
            .Validate(o => o.SweepInterval > TimeSpan.Zero && o.SweepInterval <= TimeSpan.FromDays(1),
                "Sessions:SweepInterval must be positive and at most a day (a TimeSpan such as 01:00:00).")
            .ValidateOnStart();
        services.AddHostedService<SessionSweep>();
        services.AddOptions<ChatTimeouts>()
            .BindConfiguration(ChatTimeouts.Section)
            .Validate(o => o.UnansweredTimeout > TimeSpan.Zero && o.InactivityTimeout > TimeSpan.Zero,
                "Chats:UnansweredTimeout and Chats:InactivityTimeout must be positive (a TimeSpan such as 00:30:00).")
            .Validate(o => o.InactivityWarning >= TimeSpan.Zero && o.InactivityWarning < o.InactivityTimeout,
                "Chats:InactivityWarning must be at least zero and less than Chats:InactivityTimeout.")
            .Validate(o => o.TimeoutSweepInterval > TimeSpan.Zero && o.TimeoutSweepInterval <= TimeSpan.FromMinutes(1),
                "Chats:TimeoutSweepInterval must be positive and at most a minute.")
            .ValidateOnStart();
        services.AddHostedService<ChatTimeoutSweep>();
        services.AddOptions<EventsOptions>()
            .BindConfiguration(EventsOptions.Section)
            .Validate(o => o.Retention > TimeSpan.Zero, "Events:Retention must be positive (a TimeSpan such as 7.00:00:00).")
            .Validate(o => o.SweepInterval > TimeSpan.Zero && o.SweepInterval <= TimeSpan.FromDays(1),
                "Events:SweepInterval must be positive and at most a day.")
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.PollInterval <= TimeSpan.FromSeconds(5),
                "Events:PollInterval must be positive and at most 5 seconds.")
            .ValidateOnStart();
        services.AddHostedService<EventRetentionSweep>();

        var connectionString = configuration.GetConnectionString(StorageOptions.ConnectionStringName);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            services.TryAddSingleton(sp => PostgresStorage.CreateDataSource(connectionString, sp.GetRequiredService<SiloIdentity>().NodeId));
            services.TryAddSingleton<IStorageProvider, PostgresStorage>();
            services.AddOptions<PostgresGrainStorageOptions>()
                .Bind(configuration.GetSection(PostgresGrainStorageOptions.Section))
                .Validate(o => o.ConcurrentBatches > 0 && o.MaxBatch > 0, "Storage:Postgres:ConcurrentBatches and Storage:Postgres:MaxBatch must be positive.")
                .ValidateOnStart();
            services.TryAddSingleton(sp => new PostgresBatches(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IOptions<PostgresGrainStorageOptions>>().Value));
            services.TryAddSingleton<IOfferBook, PostgresOfferBook>();
            services.TryAddSingleton<IMessageLog, PostgresMessageLog>();
            services.TryAddSingleton<IChatDeadlines, PostgresChatDeadlines>();
            services.TryAddSingleton<IEventLog, PostgresEventLog>();
            AddPostgresGrainStorage(silo, configuration);
        }
        else
        {
            services.TryAddSingleton(sp => new SqliteStorage(sp.GetRequiredService<IOptions<StorageOptions>>().Value.SqlitePath, sp.GetRequiredService<ILogger<SqliteStorage>>()));
            services.TryAddSingleton<IStorageProvider>(sp => sp.GetRequiredService<SqliteStorage>());
            services.TryAddSingleton<IOfferBook, SqliteOfferBook>();
            services.TryAddSingleton<IMessageLog, SqliteMessageLog>();
            services.TryAddSingleton<IChatDeadlines, SqliteChatDeadlines>();
            services.TryAddSingleton<IEventLog, SqliteEventLog>();
            silo.AddAdoNetGrainStorage(GrainStorage.Name, options => options.Configure<SqliteStorage>((storage, sqlite) =>
            {
                storage.Invariant = SqliteInvariant;
                storage.ConnectionString = sqlite.ConnectionString;
            }));
        }
        services.TryAddSingleton(new ChatStorageFeatures(StoresNewChatRows: false));
        // State as JSON, so an operator can read a grain's record with SQL.
        silo.UseSystemTextJsonGrainStorageSerializer();
        services.Configure<SystemTextJsonGrainStorageSerializerOptions>(options => options.JsonSerializerOptions.Encoder = StorageJsonEncoder.Instance);
        services.AddChatGrainsSerialization();

        // Below CollectionAgeLimit's one-minute floor, so set as Orleans' own options; every value
        // can be overridden under Orleans:GrainCollection with Orleans' names.
        services.AddOptions<GrainCollectionOptions>()
            .Configure(options => options.CollectionQuantum = GrainLifetimes.CollectionQuantum)
            .PostConfigure(options =>
            {
                foreach (var grain in GrainLifetimes.CreatedGrains)
                {
                    options.ClassSpecificCollectionAge.TryAdd(grain.FullName!, GrainLifetimes.CreatedIdle);
                }
            })
            .Bind(configuration.GetSection("Orleans:GrainCollection"));

        CachedGrainInterfaceTypes.AddTo(services);
        // The directory cache (Orleans' default: a million entries) remembers where grains live
        // on other silos; chats and sessions are created by the thousand a second and rarely
        // called again, so a large cache only holds memory, and Orleans' size gauge walks all of
        // it on every metrics collection (each second with the dashboard). The last 50,000 grains
        // called keep their lookups cached.
        services.AddOptions<GrainDirectoryOptions>()
            .Configure(options => options.CacheSize = 50_000)
            .Bind(configuration.GetSection("Orleans:GrainDirectory"));

        // Grain calls join the request's trace (HTTP → grain → storage).
        silo.AddActivityPropagation();
        silo.AddIncomingGrainCallFilter<StorageFailureFilter>();
        ConfigureFailureTimeouts(silo, configuration);
        return silo;
    }

    /// <summary>
    /// The batched provider by default; Orleans' ADO.NET provider when <c>Storage:Postgres:GrainStorage</c>
    /// is <c>AdoNet</c>. Both keep the same rows, so a node can switch without migrating anything.
    /// </summary>
    private static void AddPostgresGrainStorage(ISiloBuilder silo, IConfiguration configuration)
    {
        // Which provider is registered is decided here, before the options are built.
        var kind = configuration.GetSection(PostgresGrainStorageOptions.Section).GetValue(nameof(PostgresGrainStorageOptions.GrainStorage), PostgresGrainStorageKind.Batched);
        if (kind == PostgresGrainStorageKind.AdoNet)
        {
            silo.AddAdoNetGrainStorage(GrainStorage.Name, storage => storage.Configure<NpgsqlDataSource>((adoNet, dataSource) =>
            {
                adoNet.Invariant = "Npgsql";
                adoNet.DataSource = dataSource;
            }));
            return;
        }
        silo.Services.AddSingleton(new ChatStorageFeatures(StoresNewChatRows: true));
        silo.Services.AddGrainStorage(GrainStorage.Name, (sp, name) => new PostgresGrainStorage(
            name,
            sp.GetRequiredService<PostgresBatches>(),
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value,
            sp.GetRequiredService<IGrainStorageSerializer>(),
            sp.GetRequiredService<IActivatorProvider>()));
    }

    /// <summary>
    /// What the grain contracts need of the Orleans serializer beyond generated codecs: chat
    /// metadata carries arbitrary JSON values (customFields). Silos and any Orleans client alike.
    /// </summary>
    public static IServiceCollection AddChatGrainsSerialization(this IServiceCollection services) =>
        services.AddSerializer(serializer => serializer.AddJsonSerializer(
            isSerializable: type => type == typeof(JsonElement), isCopyable: type => type == typeof(JsonElement)));

    /// <summary>
    /// A caller waits a few seconds at most: a grain call gives up after
    /// <c>Orleans:Messaging:ResponseTimeout</c> (5 s), and a killed silo is declared dead after
    /// about two missed 2-second probes, so its grains answer again elsewhere within 10 s.
    /// Every value can be overridden under the same configuration section with Orleans' own names.
    /// </summary>
    private static void ConfigureFailureTimeouts(ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddOptions<SiloMessagingOptions>()
            .Configure(options => options.ResponseTimeout = TimeSpan.FromSeconds(5))
            .Bind(configuration.GetSection("Orleans:Messaging"));
        silo.Services.AddOptions<ClusterMembershipOptions>()
            .Configure(options =>
            {
                options.ProbeTimeout = TimeSpan.FromSeconds(2);
                options.NumMissedProbesLimit = 2;
                options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
                options.TableRefreshTimeout = TimeSpan.FromSeconds(10);
            })
            .Bind(configuration.GetSection("Orleans:Membership"));
    }
}
