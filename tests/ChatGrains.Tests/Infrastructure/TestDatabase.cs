using Microsoft.Data.Sqlite;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

namespace ChatGrains.Tests.Infrastructure;

/// <summary>Direct reads of a node's database, to check what was (not) written.</summary>
public interface ITestDatabase
{
    /// <summary>Rows of <paramref name="table"/>, optionally only those whose grain key is <paramref name="key"/>.</summary>
    Task<long> CountAsync(string table, string? keyColumn = null, object? key = null);

    Task ExecuteAsync(string sql);

    /// <summary>Rows of OrleansStorage holding a record of the grain kind, or of one grain of it.</summary>
    Task<long> GrainRecordsAsync(string stateName, object? key = null);

    /// <summary>The stored JSON records (<c>{"Value": …}</c>) of the grain kind, or of one grain of it.</summary>
    Task<IReadOnlyList<JsonNode>> GrainPayloadsAsync(string stateName, object? key = null);

    /// <summary>The stored records as the bytes the database holds, to see what they cost.</summary>
    Task<IReadOnlyList<byte[]>> GrainPayloadBytesAsync(string stateName, object? key = null);

    /// <summary>Rewrites one grain's stored record, as an operator would with SQL.</summary>
    Task SetGrainPayloadAsync(string stateName, object key, Action<JsonNode> change);

    Task<IReadOnlyList<string>> StringsAsync(string sql);

    /// <summary>Every row of the event log, in its order, read directly (whether or not the feed serves it yet).</summary>
    Task<IReadOnlyList<TestEvent>> EventsAsync();
}

/// <summary>A row of the event log; <see cref="Data"/> is the stored record value (the storage's JSON, not the API's).</summary>
public sealed record TestEvent(Guid Id, string Type, Guid? ChatId, long? ChatSeq, JsonNode Data)
{
    public static IReadOnlyList<TestEvent> Parse(IEnumerable<string> rows) => [.. rows.Select(row =>
    {
        var json = JsonNode.Parse(row)!;
        return new TestEvent(
            json["id"]!.GetValue<Guid>(), json["type"]!.GetValue<string>(), json["chatId"]?.GetValue<Guid>(),
            json["chatSeq"]?.GetValue<long>(), json["data"]!);
    })];
}

public static class TestEvents
{
    /// <summary>The types of the chat's events, in chatSeq order.</summary>
    public static async Task<IReadOnlyList<string>> ChatEventTypesAsync(this ITestDatabase database, Guid chatId) =>
        [.. (await database.EventsAsync()).Where(e => e.ChatId == chatId).OrderBy(e => e.ChatSeq).Select(e => e.Type)];

    /// <summary>The events of a type whose data is <paramref name="about"/> what the test looks for.</summary>
    public static async Task<IReadOnlyList<TestEvent>> EventsAboutAsync(this ITestDatabase database, string type, Func<JsonNode, bool> about) =>
        [.. (await database.EventsAsync()).Where(e => e.Type == type && about(e.Data))];
}

/// <summary>How the ADO.NET grain storage keys a grain's row (see Orleans' <c>AdoGrainKey</c>).</summary>
internal static class GrainRows
{
    public static string Where(object? key, Func<int, string> parameter) => key switch
    {
        null => $"graintypestring = {parameter(1)}",
        Guid => $"graintypestring = {parameter(1)} AND grainidn0 = {parameter(2)} AND grainidn1 = {parameter(3)} AND grainidextensionstring IS NULL",
        string => $"graintypestring = {parameter(1)} AND grainidextensionstring = {parameter(2)}",
        _ => throw new ArgumentException("A grain key is a Guid or a string.", nameof(key)),
    };

    public static IReadOnlyList<JsonNode> Parse(IEnumerable<byte[]> payloads) =>
        [.. payloads.Select(bytes => JsonNode.Parse(Encoding.UTF8.GetString(bytes))!)];

    public static object[] Parameters(string stateName, object? key) => key switch
    {
        null => [stateName],
        Guid id => [stateName, BitConverter.ToInt64(id.ToByteArray(), 0), BitConverter.ToInt64(id.ToByteArray(), 8)],
        _ => [stateName, key],
    };
}

public sealed partial class PostgresDatabase : ITestDatabase
{
    public async Task<IReadOnlyList<TestEvent>> EventsAsync() => TestEvent.Parse(await StringsAsync("""
        SELECT json_build_object('id', id, 'type', type, 'chatId', chat_id, 'chatSeq', chat_seq, 'data', data)::text
        FROM events ORDER BY tx, position
        """));

    public async Task<long> GrainRecordsAsync(string stateName, object? key = null)
    {
        await using var connection = new NpgsqlConnection(ProbeConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM orleansstorage WHERE {GrainRows.Where(key, i => $"${i}")}", connection);
        foreach (var value in GrainRows.Parameters(stateName, key))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<IReadOnlyList<JsonNode>> GrainPayloadsAsync(string stateName, object? key = null) =>
        GrainRows.Parse(await GrainPayloadBytesAsync(stateName, key));

    public async Task<IReadOnlyList<byte[]>> GrainPayloadBytesAsync(string stateName, object? key = null)
    {
        await using var connection = new NpgsqlConnection(ProbeConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT payloadbinary FROM orleansstorage WHERE {GrainRows.Where(key, i => $"${i}")}", connection);
        foreach (var value in GrainRows.Parameters(stateName, key))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        await using var reader = await command.ExecuteReaderAsync();
        var payloads = new List<byte[]>();
        while (await reader.ReadAsync())
        {
            payloads.Add((byte[])reader.GetValue(0));
        }
        return payloads;
    }

    public async Task SetGrainPayloadAsync(string stateName, object key, Action<JsonNode> change)
    {
        var payload = Assert.Single(await GrainPayloadsAsync(stateName, key));
        change(payload);
        await using var connection = new NpgsqlConnection(ProbeConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"UPDATE orleansstorage SET payloadbinary = $1, version = version + 1 WHERE {GrainRows.Where(key, i => $"${i + 1}")}", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Encoding.UTF8.GetBytes(payload.ToJsonString()) });
        foreach (var value in GrainRows.Parameters(stateName, key))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

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
    public async Task<IReadOnlyList<TestEvent>> EventsAsync() => TestEvent.Parse(await StringsAsync("""
        SELECT json_object('id', id, 'type', type, 'chatId', chat_id, 'chatSeq', chat_seq, 'data', json(data))
        FROM events ORDER BY position
        """));

    public async Task<long> GrainRecordsAsync(string stateName, object? key = null)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM OrleansStorage WHERE {GrainRows.Where(key, i => $"$p{i}")}";
        var values = GrainRows.Parameters(stateName, key);
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue($"$p{i + 1}", values[i]);
        }
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<IReadOnlyList<JsonNode>> GrainPayloadsAsync(string stateName, object? key = null) =>
        GrainRows.Parse(await GrainPayloadBytesAsync(stateName, key));

    public async Task<IReadOnlyList<byte[]>> GrainPayloadBytesAsync(string stateName, object? key = null)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT PayloadBinary FROM OrleansStorage WHERE {GrainRows.Where(key, i => $"$p{i}")}";
        var values = GrainRows.Parameters(stateName, key);
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue($"$p{i + 1}", values[i]);
        }
        await using var reader = await command.ExecuteReaderAsync();
        var payloads = new List<byte[]>();
        while (await reader.ReadAsync())
        {
            payloads.Add((byte[])reader.GetValue(0));
        }
        return payloads;
    }

    public async Task SetGrainPayloadAsync(string stateName, object key, Action<JsonNode> change)
    {
        var payload = Assert.Single(await GrainPayloadsAsync(stateName, key));
        change(payload);
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False;Default Timeout=10");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE OrleansStorage SET PayloadBinary = $p0, Version = Version + 1 WHERE {GrainRows.Where(key, i => $"$p{i}")}";
        command.Parameters.AddWithValue("$p0", Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var values = GrainRows.Parameters(stateName, key);
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue($"$p{i + 1}", values[i]);
        }
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

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
