using System.Data.Common;
using System.Net.Sockets;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace ChatGrains.Grains;

/// <summary>
/// The one place that tells a failure the cluster recovers from by itself (the caller retries
/// later) from a bug. Each question looks through the whole chain of inner exceptions: Orleans
/// and the database clients wrap what they caught.
/// </summary>
public static class Failures
{
    // SQLite's result codes for a file or table another connection held past the busy timeout.
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    /// <summary>
    /// The database cannot serve now (down, restarting, out of connections, busy, unreachable),
    /// as opposed to a bug such as a missing table or a value that breaks a constraint.
    /// </summary>
    public static bool IsStorageUnavailable(Exception exception) =>
        Chain(exception).Any(failure => failure is StorageUnavailableException or SocketException or TimeoutException
            || failure is DbException database && CannotServe(database));

    /// <summary>A silo this call needed (the grain's host, or the owner of its directory entry) is gone.</summary>
    public static bool IsSiloLost(Exception exception) =>
        Chain(exception).Any(failure => failure is SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException);

    /// <summary>
    /// The caller should retry later (503 with Retry-After, the hub's <c>UNAVAILABLE</c>): the
    /// database or a silo cannot serve, or a write lost to another activation of its grain
    /// (possible while the membership changes), which has taken the winner's state by then.
    /// </summary>
    public static bool ShouldRetryLater(Exception exception) =>
        IsStorageUnavailable(exception) || IsSiloLost(exception) || Chain(exception).Any(failure => failure is InconsistentStateException);

    private static bool CannotServe(DbException database) =>
        // Npgsql: a failure of the connection's I/O, socket or time-out, and PostgreSQL's own
        // transient errors (out of connections or memory, deadlock, shutdown).
        database.IsTransient
        // Classes 57P (the server is shutting down or starting up) and 08 (connection exception).
        || database.SqlState is { } state && (state.StartsWith("57P", StringComparison.Ordinal) || state.StartsWith("08", StringComparison.Ordinal))
        // The client's I/O failed further down than IsTransient looks (an SSL handshake cut short).
        || Chain(database.InnerException).Any(cause => cause is IOException)
        || IsSqliteBusyOrLocked(database);

    // Microsoft.Data.Sqlite counts nothing as transient, and this project references no database
    // client: the code is read by its property's name (a unit test holds the name to the package's).
    private static bool IsSqliteBusyOrLocked(DbException database) =>
        database.GetType().GetProperty("SqliteErrorCode")?.GetValue(database) is SqliteBusy or SqliteLocked;

    private static IEnumerable<Exception> Chain(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }
}
