using System.Text;
using ChatGrains.Grains;
using ChatGrains.Silo;
using ChatGrains.Tests.Infrastructure;
using Npgsql;
using NpgsqlTypes;

namespace ChatGrains.Tests.Grains;

/// <summary>
/// What migration 0004 changes, without timing: two first writes of one grain through the
/// storage's own <c>writetostorage</c>, the second issued while the first one's transaction is
/// still open, on a database migrated without 0004 (the vendored script) and with it.
/// </summary>
[Trait("Category", "Grains")]
public sealed class OverlappingFirstWriteTests
{
    private static readonly Guid Grain = Guid.NewGuid();

    [Fact]
    public async Task UnderTheVendoredScriptASecondFirstWriteDuringTheFirstOneStoresASecondRowForTheGrain()
    {
        await using var database = await MigratedDatabaseAsync(throughVersion: "0003");
        await using var first = await OpenAsync(database);
        await using var second = await OpenAsync(database);

        await using (var transaction = await first.BeginTransactionAsync())
        {
            Assert.Equal(1, await WriteFirstAsync(first, "first"));
            // The first row is not committed yet, so NOT EXISTS sees none and this inserts too.
            Assert.Equal(1, await WriteFirstAsync(second, "second"));
            await transaction.CommitAsync();
        }

        Assert.Equal(2, await database.GrainRecordsAsync(GrainStorage.Chat, Grain));
    }

    [Fact]
    public async Task WithOneRowPerGrainASecondFirstWriteWaitsForTheFirstOneAndThenStoresNothing()
    {
        await using var database = await MigratedDatabaseAsync(throughVersion: "0004");
        await using var first = await OpenAsync(database);
        await using var second = await OpenAsync(database);

        Task<int?> secondWrite;
        await using (var transaction = await first.BeginTransactionAsync())
        {
            Assert.Equal(1, await WriteFirstAsync(first, "first"));
            secondWrite = WriteFirstAsync(second, "second");
            await WaitUntilWaitingForALockAsync(database, second.ProcessID);
            Assert.False(secondWrite.IsCompleted);
            await transaction.CommitAsync();
        }

        // No version: the provider turns that into InconsistentStateException for the loser.
        Assert.Null(await secondWrite);
        var stored = Assert.Single(await database.GrainPayloadsAsync(GrainStorage.Chat, Grain));
        Assert.Equal("first", stored["Value"]!.GetValue<string>());
    }

    private static async Task<PostgresDatabase> MigratedDatabaseAsync(string throughVersion)
    {
        var database = await (await PostgresServer.Shared).CreateDatabaseAsync();
        foreach (var migration in Migration.For("postgres").Where(m => string.CompareOrdinal(m.Version[..4], throughVersion) <= 0))
        {
            await database.ExecuteAsync(migration.Sql);
        }
        return database;
    }

    private static async Task<NpgsqlConnection> OpenAsync(PostgresDatabase database)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>A first write (no version yet) of the grain, as AdoNetGrainStorage issues it; returns the new version, if any.</summary>
    private static async Task<int?> WriteFirstAsync(NpgsqlConnection connection, string value)
    {
        var bytes = Grain.ToByteArray();
        await using var command = new NpgsqlCommand("SELECT newgrainstateversion FROM writetostorage($1, $2, $3, $4, $5, $6, $7, $8, $9)", connection);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = 42 });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = BitConverter.ToInt64(bytes, 0) });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = BitConverter.ToInt64(bytes, 8) });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = 7 });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = GrainStorage.Chat });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Varchar, Value = DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "overlapping-writes" });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Encoding.UTF8.GetBytes($$"""{"Value":"{{value}}"}""") });
        var version = await command.ExecuteScalarAsync();
        return version is int v ? v : null;
    }

    /// <summary>Polls the server until the backend waits on a lock (the unique index's, held by the open transaction).</summary>
    private static async Task WaitUntilWaitingForALockAsync(PostgresDatabase database, int processId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!(await database.StringsAsync($"SELECT coalesce(wait_event_type, '') FROM pg_stat_activity WHERE pid = {processId}")).Contains("Lock"))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), timeout.Token);
        }
    }
}
