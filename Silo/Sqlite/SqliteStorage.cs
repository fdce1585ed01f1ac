using System.Globalization;
using ChatGrains.Grains;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace ChatGrains.Silo.Sqlite;

/// <summary>The embedded database of a single node: one file, WAL mode, writers serialised by SQLite.</summary>
internal sealed partial class SqliteStorage : IStorageProvider
{
    private const string PathSetting = "Storage:SqlitePath";

    public SqliteStorage(string path, ILogger<SqliteStorage> logger)
    {
        var fullPath = Path.GetFullPath(path);
        PrivateFiles.CreateFolder(Path.GetDirectoryName(fullPath)!);
        // SQLite creates -wal and -shm with the database file's mode, so an empty 0600 file made
        // here (SQLite takes it for an empty database) keeps all three private.
        ReportIfLeftOpen(logger, fullPath, PrivateFiles.Restrict(fullPath, PathSetting));
        ReportIfLeftOpen(logger, fullPath + "-wal", PrivateFiles.RestrictIfPresent(fullPath + "-wal", PathSetting));
        ReportIfLeftOpen(logger, fullPath + "-shm", PrivateFiles.RestrictIfPresent(fullPath + "-shm", PathSetting));
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = true,
            DefaultTimeout = 10,
        }.ToString();
    }

    /// <summary>Shared with the Orleans grain storage provider, which opens its own connections.</summary>
    public string ConnectionString { get; }

    public string Name => "sqlite";

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (SqliteException ex)
        {
            // A file that cannot be opened (its folder gone, its mode changed) cannot serve, whatever the code.
            await connection.DisposeAsync();
            throw new StorageUnavailableException("The SQLite database is unavailable.", ex);
        }
    }

    public async Task<IReadOnlyList<string>> MigrateAsync(IReadOnlyList<Migration> migrations, string appliedBy, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using (var wal = connection.CreateCommand())
        {
            // Persistent per file: readers stop blocking the writer.
            wal.CommandText = "PRAGMA journal_mode=WAL";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }

        // BEGIN IMMEDIATE takes the write lock up front: a second process waits here.
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    TEXT NOT NULL PRIMARY KEY,
                applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                applied_by TEXT NOT NULL
            )
            """, cancellationToken);

        var known = new HashSet<string>(StringComparer.Ordinal);
        await using (var select = connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT version FROM schema_migrations";
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                known.Add(reader.GetString(0));
            }
        }

        var applied = new List<string>();
        foreach (var migration in migrations.Where(m => !known.Contains(m.Version)))
        {
            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
            await using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_migrations (version, applied_by) VALUES ($version, $appliedBy)";
            record.Parameters.AddWithValue("$version", migration.Version);
            record.Parameters.AddWithValue("$appliedBy", appliedBy);
            await record.ExecuteNonQueryAsync(cancellationToken);
            applied.Add(migration.Version);
        }

        await transaction.CommitAsync(cancellationToken);
        return applied;
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, null, "SELECT 1", cancellationToken);
    }

    public async Task<int> DeleteRecordsOlderThanAsync(string serviceId, IReadOnlyList<string> stateNames, TimeSpan age, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // Orleans writes ModifiedOn as datetime('now'): UTC text, which compares in time order.
        command.CommandText = $"""
            DELETE FROM OrleansStorage WHERE rowid IN (
                SELECT rowid FROM OrleansStorage
                WHERE ServiceId = $serviceId AND GrainTypeString IN ({string.Join(", ", stateNames.Select((_, i) => $"$state{i}"))})
                  AND ModifiedOn < datetime('now', $age)
                LIMIT $limit)
            """;
        command.Parameters.AddWithValue("$serviceId", serviceId);
        for (var i = 0; i < stateNames.Count; i++)
        {
            command.Parameters.AddWithValue($"$state{i}", stateNames[i]);
        }
        command.Parameters.AddWithValue("$age", $"-{age.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds");
        command.Parameters.AddWithValue("$limit", limit);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void ReportIfLeftOpen(ILogger logger, string path, bool leftOpen)
    {
        if (leftOpen && !OperatingSystem.IsWindows())
        {
            LogFileOpenToOthers(logger, path, Convert.ToString((int)File.GetUnixFileMode(path), 8));
        }
    }

    [LoggerMessage(LogLevel.Warning, "Storage:SqlitePath: '{Path}' is open to group or others (mode {Mode}) in a folder that is not private, so the node leaves its mode alone: chmod 600 it, or 700 its folder")]
    private static partial void LogFileOpenToOthers(ILogger logger, string path, string mode);
}
