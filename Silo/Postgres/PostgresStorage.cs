using Npgsql;

namespace ChatGrains.Silo.Postgres;

internal sealed class PostgresStorage(NpgsqlDataSource db) : IStorageProvider
{
    // Any constant works as long as every node uses the same one.
    private const long MigrationLockKey = 0x4368_6174_4772_6169; // "ChatGrai"

    public string Name => "postgres";

    public static NpgsqlDataSource CreateDataSource(string connectionString, string nodeId)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // Names this node's connections in pg_stat_activity (the dashboard counts them there).
        if (string.IsNullOrEmpty(builder.ConnectionStringBuilder.ApplicationName))
        {
            builder.ConnectionStringBuilder.ApplicationName = nodeId;
        }
        // Every grain runs the same few statements: preparing them saves a parse per request.
        // Only a default: an explicit "Max Auto Prepare=0" (e.g. behind an old PgBouncer) stays.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }
        // Orleans' queries and our migrations keep no session state on a pooled connection, so
        // the reset Npgsql sends when one is returned is pure cost (measured: 8–30 % of
        // PostgreSQL's CPU per creation). An explicit setting is kept.
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
        {
            builder.ConnectionStringBuilder.NoResetOnClose = true;
        }
        // A database that does not answer (rather than refusing) must not hold a connection
        // attempt for Npgsql's default 15 s: the node answers 503 within a few seconds instead.
        if (!given.ContainsKey("Timeout") && !given.ContainsKey("Connect Timeout"))
        {
            builder.ConnectionStringBuilder.Timeout = 5;
        }
        return builder.Build();
    }

    public async Task<IReadOnlyList<string>> MigrateAsync(IReadOnlyList<Migration> migrations, string appliedBy, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // A transaction-scoped lock: released by COMMIT or by the connection dying, never leaked.
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = MigrationLockKey });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new NpgsqlCommand("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    text        PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now(),
                applied_by text        NOT NULL
            )
            """, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var known = new HashSet<string>(StringComparer.Ordinal);
        await using (var select = new NpgsqlCommand("SELECT version FROM schema_migrations", connection, transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                known.Add(reader.GetString(0));
            }
        }

        var applied = new List<string>();
        foreach (var migration in migrations.Where(m => !known.Contains(m.Version)))
        {
            await using (var script = new NpgsqlCommand(migration.Sql, connection, transaction))
            {
                await script.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, applied_by) VALUES ($1, $2)", connection, transaction))
            {
                record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Version });
                record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = appliedBy });
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            applied.Add(migration.Version);
        }

        await transaction.CommitAsync(cancellationToken);
        return applied;
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public async Task<int> DeleteRecordsOlderThanAsync(string serviceId, IReadOnlyList<string> stateNames, TimeSpan age, int limit, CancellationToken cancellationToken)
    {
        // Orleans writes modifiedon as UTC without a time zone. A row rewritten since the subquery
        // chose it has another ctid, so a session refreshed meanwhile is not deleted.
        await using var command = db.CreateCommand("""
            DELETE FROM orleansstorage WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM orleansstorage
                WHERE serviceid = $1 AND graintypestring = ANY($2) AND modifiedon < (now() AT TIME ZONE 'utc') - $3
                LIMIT $4))
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = serviceId });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. stateNames] });
        command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = age });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
