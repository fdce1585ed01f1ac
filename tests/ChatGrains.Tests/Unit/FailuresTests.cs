using System.Net.Sockets;
using System.Security.Authentication;
using ChatGrains.Grains;
using Microsoft.Data.Sqlite;
using Npgsql;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace ChatGrains.Tests.Unit;

/// <summary>
/// Each shape of failure the clients and Orleans produce, as <see cref="Failures"/> must read it:
/// the database or a silo cannot serve (retry later), or a bug (never hidden behind a 503).
/// </summary>
public sealed class FailuresTests
{
    private static readonly Dictionary<string, Exception> DatabaseCannotServe = new()
    {
        ["connection refused"] = new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused)),
        ["connection dropped mid-statement"] = new NpgsqlException("Exception while reading from stream", new EndOfStreamException()),
        ["command timed out"] = new NpgsqlException("Exception while reading from stream", new TimeoutException()),
        ["ssl handshake cut short"] = new NpgsqlException("Exception while performing SSL handshake",
            new AuthenticationException("Authentication failed", new IOException("Received an unexpected EOF"))),
        ["57P01 admin shutdown"] = Postgres("57P01"),
        ["57P03 starting up"] = Postgres("57P03"),
        ["08006 connection failure"] = Postgres("08006"),
        ["53300 too many connections"] = Postgres("53300"),
        ["sqlite busy"] = new SqliteException("database is locked", 5),
        ["sqlite locked"] = new SqliteException("database table is locked", 6),
        ["socket"] = new SocketException((int)SocketError.HostUnreachable),
        ["timeout"] = new TimeoutException(),
        ["already classified"] = new StorageUnavailableException(),
        ["wrapped by orleans"] = new OrleansException("Error from storage provider", Postgres("57P01")),
    };

    private static readonly Dictionary<string, Exception> SiloLost = new()
    {
        ["silo unavailable"] = new SiloUnavailableException(),
        ["connection to the silo failed"] = new ConnectionFailedException("Unable to connect to endpoint"),
        ["wrapped"] = new OrleansException("call failed", new SiloUnavailableException()),
    };

    private static readonly Dictionary<string, Exception> Bugs = new()
    {
        ["42P01 undefined table"] = Postgres("42P01"),
        ["23505 unique violation"] = Postgres("23505"),
        ["22001 value too long"] = Postgres("22001"),
        ["28P01 wrong password"] = Postgres("28P01"),
        ["sqlite no such table"] = new SqliteException("no such table: OrleansStorage", 1),
        ["sqlite constraint"] = new SqliteException("UNIQUE constraint failed", 19),
        ["argument"] = new ArgumentException("bad value"),
        ["invalid operation"] = new InvalidOperationException("a bug", new ArgumentNullException("value")),
        ["io outside a database client"] = new IOException("disk"),
    };

    public static TheoryData<string> DatabaseCannotServeCases => [.. DatabaseCannotServe.Keys];

    public static TheoryData<string> SiloLostCases => [.. SiloLost.Keys];

    public static TheoryData<string> BugCases => [.. Bugs.Keys];

    [Theory]
    [MemberData(nameof(DatabaseCannotServeCases))]
    public void ADatabaseThatCannotServeIsStorageUnavailableAndRetriedLater(string failure)
    {
        var exception = DatabaseCannotServe[failure];

        Assert.True(Failures.IsStorageUnavailable(exception));
        Assert.True(Failures.ShouldRetryLater(exception));
        Assert.False(Failures.IsSiloLost(exception));
    }

    [Theory]
    [MemberData(nameof(SiloLostCases))]
    public void ALostSiloIsRetriedLaterAndIsNotAStorageFailure(string failure)
    {
        var exception = SiloLost[failure];

        Assert.True(Failures.IsSiloLost(exception));
        Assert.True(Failures.ShouldRetryLater(exception));
        Assert.False(Failures.IsStorageUnavailable(exception));
    }

    [Theory]
    [MemberData(nameof(BugCases))]
    public void ABugIsNeitherUnavailabilityNorRetriedLater(string failure)
    {
        var exception = Bugs[failure];

        Assert.False(Failures.IsStorageUnavailable(exception));
        Assert.False(Failures.IsSiloLost(exception));
        Assert.False(Failures.ShouldRetryLater(exception));
    }

    [Fact]
    public void AWriteThatLostToAnotherActivationIsRetriedLaterWithoutBeingAStorageFailure()
    {
        var conflict = new InconsistentStateException("Version conflict");

        Assert.True(Failures.ShouldRetryLater(conflict));
        Assert.False(Failures.IsStorageUnavailable(conflict));
        Assert.False(Failures.IsSiloLost(conflict));
    }

    private static PostgresException Postgres(string sqlState) => new("message", "ERROR", "ERROR", sqlState);
}
