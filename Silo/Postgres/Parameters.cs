using Npgsql;

namespace ChatGrains.Silo.Postgres;

/// <summary>Typed parameters and lock orders shared by the stores on PostgreSQL.</summary>
internal static class Parameters
{
    public static NpgsqlParameter<Guid> Id(Guid id) => new() { TypedValue = id };

    public static NpgsqlParameter<Guid[]> Ids(IReadOnlyCollection<Guid> ids) => new() { TypedValue = [.. ids] };

    public static NpgsqlParameter<DateTimeOffset> Time(DateTimeOffset time) => new() { TypedValue = time };

    /// <summary>A write's lock order (<see cref="BatchedStatement.LockOrder"/>) when it changes only rows of <paramref name="id"/>.</summary>
    public static Int128 OrderOf(Guid id)
    {
        var bytes = id.ToByteArray();
        return new Int128(BitConverter.ToUInt64(bytes, 0), BitConverter.ToUInt64(bytes, 8));
    }
}
