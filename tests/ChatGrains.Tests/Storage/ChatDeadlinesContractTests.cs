using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatGrains.Tests.Storage;

/// <summary>
/// What each database's deadlines must do (<see cref="IChatDeadlines"/> as the chats and the
/// timeout sweep use them): a chat is claimed once it is due and not again while its lease runs,
/// a later setting or a clearing takes it out, and two claims at once never share a chat. Times
/// are in 2100, which the node's own sweep (claiming at today's time) never reaches; each test
/// looks only at its own chats, since a claim takes every due chat of the database.
/// </summary>
public abstract class ChatDeadlinesContract(TestNode node)
{
    private static readonly DateTimeOffset Era = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private const int AnyNumber = 10_000;

    private IChatDeadlines Deadlines => node.Services.GetRequiredService<IChatDeadlines>();

    private async Task<Guid[]> ClaimAsync(DateTimeOffset now, params Guid[] among) =>
        [.. (await Deadlines.ClaimDueAsync(now, Lease, AnyNumber, CancellationToken.None)).Intersect(among)];

    [Fact]
    public async Task ADueChatIsClaimedOnceThenAgainWhenItsLeaseEnds()
    {
        var (due, notYet) = (Guid.NewGuid(), Guid.NewGuid());
        var now = Era.AddDays(1);
        await Deadlines.SetAsync(due, now.AddSeconds(-1));
        await Deadlines.SetAsync(notYet, now.AddSeconds(1));

        Assert.Equal([due], await ClaimAsync(now, due, notYet));
        Assert.Empty(await ClaimAsync(now.AddSeconds(1) - TimeSpan.FromMilliseconds(1), due));
        Assert.Equal([notYet], await ClaimAsync(now.AddSeconds(1), due, notYet));
        Assert.Equal([due], await ClaimAsync(now + Lease, due));
    }

    [Fact]
    public async Task ALaterSettingReplacesAnEarlierOneAndAClearedChatIsNeverClaimed()
    {
        var (moved, cleared) = (Guid.NewGuid(), Guid.NewGuid());
        var now = Era.AddDays(2);
        await Deadlines.SetAsync(moved, now);
        await Deadlines.SetAsync(cleared, now);
        await Deadlines.SetAsync(moved, now.AddMinutes(5));
        await Deadlines.ClearAsync(cleared);
        // Clearing what is not there changes nothing.
        await Deadlines.ClearAsync(cleared);

        Assert.Empty(await ClaimAsync(now.AddMinutes(5).AddMilliseconds(-1), moved, cleared));
        Assert.Equal([moved], await ClaimAsync(now.AddYears(1), moved, cleared));
        Assert.Equal(1, await node.Database.CountAsync("chat_deadlines", "chat_id", moved));
        Assert.Equal(0, await node.Database.CountAsync("chat_deadlines", "chat_id", cleared));
    }

    [Fact]
    public async Task ClaimsAtTheSameTimeNeverShareAChatAndTogetherTakeEveryDueOne()
    {
        var now = Era.AddDays(3);
        var chats = Enumerable.Range(0, 200).Select(_ => Guid.NewGuid()).ToArray();
        await Task.WhenAll(chats.Select((chatId, i) => Deadlines.SetAsync(chatId, now.AddMilliseconds(-i))));

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Deadlines.ClaimDueAsync(now, Lease, 60, CancellationToken.None))));

        var claimed = claims.SelectMany(claim => claim).ToList();
        Assert.All(claims, claim => Assert.True(claim.Count <= 60, $"{claim.Count} claimed with a maximum of 60"));
        Assert.Equal(claimed.Count, claimed.Distinct().Count());
        var rest = await ClaimAsync(now, chats);
        Assert.Equal(chats.Order(), claimed.Intersect(chats).Concat(rest).Order());
    }
}

[Trait("Category", "Storage")]
public sealed class PostgresChatDeadlinesContractTests(PostgresNodeFixture fixture)
    : ChatDeadlinesContract(fixture.Node), IClassFixture<PostgresNodeFixture>;

[Trait("Category", "Storage")]
public sealed class SqliteChatDeadlinesContractTests(SqliteNodeFixture fixture)
    : ChatDeadlinesContract(fixture.Node), IClassFixture<SqliteNodeFixture>;
