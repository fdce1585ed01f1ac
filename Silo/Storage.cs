using ChatGrains.Grains;
using Microsoft.Extensions.Configuration;

namespace ChatGrains.Silo;

/// <summary><c>Storage:*</c> configuration; PostgreSQL is chosen by <c>ConnectionStrings:ChatGrains</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string ConnectionStringName = "ChatGrains";

    public string SqlitePath { get; set; } = "data/chatgrains.db";

    /// <summary>Where a single node keeps what it generates for itself (the SQLite file, its signing key).</summary>
    public string DataDirectory => Path.GetDirectoryName(Path.GetFullPath(SqlitePath))!;

    /// <summary>A node on PostgreSQL is (potentially) one of many; on SQLite it is alone.</summary>
    public static bool IsClustered(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString(ConnectionStringName));
}

/// <summary>What the silo needs of a database beyond the grains' own SQL.</summary>
public interface IStorageProvider
{
    /// <summary>Names the folder of this provider's migrations: <c>Migrations/{Name}/</c>.</summary>
    string Name { get; }

    /// <summary>Applies the migrations not yet recorded, under a lock that serialises concurrent nodes.</summary>
    /// <returns>The versions this call applied.</returns>
    Task<IReadOnlyList<string>> MigrateAsync(IReadOnlyList<Migration> migrations, string appliedBy, CancellationToken cancellationToken);

    /// <summary>One round trip; fails as <see cref="Failures.IsStorageUnavailable"/> recognises when the database does not answer.</summary>
    Task PingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="limit"/> grain records of the state names, of this service,
    /// last written more than <paramref name="age"/> ago by the database's clock (<c>ModifiedOn</c>).
    /// </summary>
    /// <returns>How many it deleted.</returns>
    Task<int> DeleteRecordsOlderThanAsync(string serviceId, IReadOnlyList<string> stateNames, TimeSpan age, int limit, CancellationToken cancellationToken);
}

/// <summary>Flips once the schema is migrated; until then the node is not ready.</summary>
public sealed class StorageReadiness
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReady => _ready.Task.IsCompleted;

    internal void MarkReady() => _ready.TrySetResult();

    /// <summary>
    /// Blocks until the schema is migrated or <paramref name="timeout"/> passes; answers whether it
    /// is. Only for callers that cannot await (data protection's key repository).
    /// </summary>
    public bool WaitUntilReady(TimeSpan timeout) => _ready.Task.Wait(timeout);
}

/// <summary>This node's identity within the cluster.</summary>
public sealed class SiloIdentity
{
    public string NodeId { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
}
