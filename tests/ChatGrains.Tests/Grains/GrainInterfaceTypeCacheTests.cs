using ChatGrains.Grains;
using ChatGrains.Silo;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Serialization.TypeSystem;

namespace ChatGrains.Tests.Grains;

/// <summary>
/// <see cref="CachedGrainInterfaceTypes"/> answers, once per interface, what Orleans' own
/// providers answer: grain references keep the interface types every silo expects.
/// </summary>
public sealed class GrainInterfaceTypeCacheTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    public static TheoryData<Type> Interfaces() =>
    [
        typeof(IChatGrain), typeof(ICommercialGrain), typeof(IVisitorGrain), typeof(IGuestSessionGrain),
        typeof(ILiveChatSessionGrain), typeof(IRateLimitGrain), typeof(IChatHistoryPageGrain), typeof(IManagementGrain),
    ];

    [Theory]
    [MemberData(nameof(Interfaces))]
    public void TheNodeResolvesEachInterfaceAsOrleansOwnProvidersDo(Type grainInterface)
    {
        var services = fixture.Node.Services;
        var orleansOwn = new GrainInterfaceTypeResolver(
            services.GetServices<IGrainInterfaceTypeProvider>().Where(provider => provider is not CachedGrainInterfaceTypes),
            services.GetRequiredService<TypeConverter>());

        var resolved = services.GetRequiredService<GrainInterfaceTypeResolver>().GetGrainInterfaceType(grainInterface);

        Assert.Equal(orleansOwn.GetGrainInterfaceType(grainInterface), resolved);
    }

    [Fact]
    public void TheCacheIsConsultedBeforeOrleansProvidersAndAnswersFromMemoryAfterTheFirstCall()
    {
        var providers = fixture.Node.Services.GetServices<IGrainInterfaceTypeProvider>().ToArray();
        var cache = Assert.IsType<CachedGrainInterfaceTypes>(providers[0]);

        Assert.True(cache.TryGetGrainInterfaceType(typeof(IChatGrain), out var first));
        var known = cache.Count;
        Assert.True(cache.TryGetGrainInterfaceType(typeof(IChatGrain), out var second));

        Assert.Equal(first, second);
        Assert.Equal(known, cache.Count);
    }
}
