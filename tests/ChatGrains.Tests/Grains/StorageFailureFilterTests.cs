using System.Collections.Concurrent;
using ChatGrains.Grains;
using ChatGrains.Silo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Orleans.TestingHost;

namespace ChatGrains.Tests.Grains;

/// <summary>
/// What a grain's caller meets when the grain's storage fails, on a silo configured as production's
/// (<see cref="ChatGrainsSilo.AddChatGrains"/>) whose grain storage fails on demand: a database that
/// cannot serve is <see cref="StorageUnavailableException"/>, whichever grain, with nothing of the
/// database in it; a bug is itself. A state that cannot be read at activation fails outside any
/// grain call, as Orleans wraps it, and is still a failure to retry later.
/// </summary>
[Trait("Category", "Grains")]
public sealed class StorageFailureFilterTests(StorageFailureFilterTests.Silo silo) : IClassFixture<StorageFailureFilterTests.Silo>
{
    private static readonly NpgsqlException ConnectionLost =
        new("Exception while writing to stream", new IOException("Broken pipe"));

    [Fact]
    public async Task AWriteTheDatabaseCannotServeReachesTheCallerAsStorageUnavailable()
    {
        var page = silo.Grains.GetGrain<IChatHistoryPageGrain>($"{Guid.NewGuid():N}/0");
        silo.Storage.FailWrites(page, ConnectionLost);

        var failure = await Assert.ThrowsAsync<StorageUnavailableException>(() => page.Store([]));

        Assert.Equal(new StorageUnavailableException().Message, failure.Message);
        Assert.Null(failure.InnerException);
    }

    [Fact]
    public async Task ACreationTheDatabaseCannotStoreReachesTheCallerAsStorageUnavailableAndIsNotRemembered()
    {
        var session = silo.Grains.GetGrain<IGuestSessionGrain>(Guid.NewGuid().ToString());
        silo.Storage.FailWrites(session, ConnectionLost);

        await Assert.ThrowsAsync<StorageUnavailableException>(() => session.Open(GrainCommands.GuestSession("first")));
        silo.Storage.FailWrites(session, null);
        var opened = await session.Open(GrainCommands.GuestSession("second"));

        Assert.True(opened.Created);
        Assert.Equal("second", opened.Session.GuestName);
    }

    [Fact]
    public async Task ABugInAWriteReachesTheCallerAsItself()
    {
        var page = silo.Grains.GetGrain<IChatHistoryPageGrain>($"{Guid.NewGuid():N}/0");
        silo.Storage.FailWrites(page, new PostgresException("relation \"orleansstorage\" does not exist", "ERROR", "ERROR", PostgresErrorCodes.UndefinedTable));

        // As Orleans' storage bridge wraps it, untouched.
        var failure = await Assert.ThrowsAsync<OrleansException>(() => page.Store([]));

        Assert.Equal(PostgresErrorCodes.UndefinedTable, Assert.IsType<PostgresException>(failure.InnerException).SqlState);
        Assert.False(Failures.ShouldRetryLater(failure));
    }

    [Fact]
    public async Task AStateTheDatabaseCannotReadAtActivationIsRetriedLaterByTheCaller()
    {
        // Activation is not a grain call: no filter sees it, and the caller gets Orleans' wrapping.
        var page = silo.Grains.GetGrain<IChatHistoryPageGrain>($"{Guid.NewGuid():N}/0");
        silo.Storage.FailReads(page, ConnectionLost);

        var failure = await Assert.ThrowsAsync<OrleansException>(() => page.Read());

        Assert.True(Failures.ShouldRetryLater(failure));
    }

    /// <summary>One silo, its grain storage replaced by <see cref="FailingStorage"/>; the SQLite file only holds the migrations.</summary>
    public sealed class Silo : IAsyncLifetime
    {
        private readonly string _folder = Path.Combine(Path.GetTempPath(), $"chatgrains-filter-{Guid.NewGuid():N}");
        private InProcessTestCluster _cluster = null!;

        public FailingStorage Storage { get; } = new();

        public IGrainFactory Grains => _cluster.GetSiloServiceProvider(_cluster.Silos[0].SiloAddress).GetRequiredService<IGrainFactory>();

        public async Task InitializeAsync()
        {
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["Storage:SqlitePath"] = Path.Combine(_folder, "chatgrains.db") })
                .Build();
            var builder = new InProcessTestClusterBuilder(1);
            builder.Options.ConfigureFileLogging = false;
            builder.ConfigureSilo((_, silo) =>
            {
                silo.AddChatGrains(configuration);
                silo.Services.AddKeyedSingleton<IGrainStorage>(GrainStorage.Name, Storage);
            });
            builder.ConfigureClient(client => client.Services.AddChatGrainsSerialization());
            _cluster = builder.Build();
            await _cluster.DeployAsync();
        }

        public async Task DisposeAsync()
        {
            await _cluster.DisposeAsync();
            if (Directory.Exists(_folder))
            {
                Directory.Delete(_folder, recursive: true);
            }
        }
    }

    /// <summary>Grain state in memory, whose reads or writes fail for the grains told so.</summary>
    public sealed class FailingStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
    {
        private readonly ConcurrentDictionary<GrainId, Exception> _readFailures = new();
        private readonly ConcurrentDictionary<GrainId, Exception> _writeFailures = new();

        public void FailReads(IAddressable grain, Exception failure) => _readFailures[grain.GetGrainId()] = failure;

        public void FailWrites(IAddressable grain, Exception? failure)
        {
            if (failure is null)
            {
                _writeFailures.TryRemove(grain.GetGrainId(), out _);
            }
            else
            {
                _writeFailures[grain.GetGrainId()] = failure;
            }
        }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            _readFailures.TryGetValue(grainId, out var failure) ? Task.FromException(failure) : Task.CompletedTask;

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (_writeFailures.TryGetValue(grainId, out var failure))
            {
                return Task.FromException(failure);
            }
            grainState.ETag = Guid.NewGuid().ToString();
            grainState.RecordExists = true;
            return Task.CompletedTask;
        }

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;

        // The ADO.NET storage that AddChatGrains registers under this name takes whatever provider
        // has the name as the participant that initialises it: there is nothing to initialise.
        public void Participate(ISiloLifecycle lifecycle)
        {
        }
    }
}
