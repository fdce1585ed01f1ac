using Microsoft.Data.Sqlite;
using Npgsql;

namespace ChatGrains.Tests.Infrastructure;

/// <summary>Direct reads of a node's database, to check what was (not) written.</summary>
public interface ITestDatabase
{
    /// <summary>Rows of <paramref name="table"/>, optionally only those whose grain key is <paramref name="key"/>.</summary>
    Task<long> CountAsync(string table, string? keyColumn = null, object? key = null);

    Task ExecuteAsync(string sql);

    Task<IReadOnlyList<string>> StringsAsync(string sql);
}

public sealed partial class PostgresDatabase : ITestDatabase
{
    public async Task<long> CountAsync(string table, string? keyColumn = null, object? key = null)
    {
        var sql = keyColumn is null ? $"SELECT count(*) FROM {table}" : $"SELECT count(*) FROM {table} WHERE {keyColumn} = $1";
        await using var connection = new NpgsqlConnection(ProbeConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        if (keyColumn is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = key });
        }
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ProbeConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<string>> StringsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ProbeConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetValue(0).ToString()!);
        }
        return values;
    }
}

public sealed class SqliteTestDatabase(string path) : ITestDatabase
{
    public async Task<long> CountAsync(string table, string? keyColumn = null, object? key = null)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = keyColumn is null ? $"SELECT count(*) FROM {table}" : $"SELECT count(*) FROM {table} WHERE {keyColumn} = $key";
        if (keyColumn is not null)
        {
            command.Parameters.AddWithValue("$key", key!.ToString());
        }
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False;Default Timeout=10");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<string>> StringsAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetValue(0).ToString()!);
        }
        return values;
    }
}
