using ChatGrains.Grains;

namespace ChatGrains.Tests.Unit;

/// <summary>The hub's message rate (5 a second, bursts of 10) as arithmetic, at chosen times.</summary>
public sealed class TokenBucketTests
{
    private const double PerSecond = 5;
    private const int Burst = 10;
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ABurstTakesTenThenTheNextWaitsAFifthOfASecond()
    {
        var bucket = TokenBucket.Full(Burst, Start);
        for (var i = 1; i <= Burst; i++)
        {
            (bucket, var taken) = bucket.RefilledTo(Start, PerSecond, Burst).Take(PerSecond, Burst);
            Assert.True(taken.Admitted, $"message {i}");
            Assert.Equal(Burst - i, taken.Remaining);
        }

        var (after, refused) = bucket.RefilledTo(Start, PerSecond, Burst).Take(PerSecond, Burst);

        Assert.False(refused.Admitted);
        Assert.Equal(TimeSpan.FromMilliseconds(200), refused.NextPermitIn);
        Assert.Equal(bucket, after);
        Assert.True(after.RefilledTo(Start.AddMilliseconds(200), PerSecond, Burst).Take(PerSecond, Burst).Decision.Admitted);
    }

    [Fact]
    public void ARefusedSenderWaitingLessThanTheRetryTimeIsRefusedAgain()
    {
        var empty = new TokenBucket(0, Start);

        var (_, early) = empty.RefilledTo(Start.AddMilliseconds(150), PerSecond, Burst).Take(PerSecond, Burst);

        Assert.False(early.Admitted);
        Assert.InRange(early.NextPermitIn.TotalMilliseconds, 49.9, 50.1);
    }

    [Fact]
    public void ALongPauseFillsTheBucketNoHigherThanTheBurst()
    {
        var refilled = new TokenBucket(0, Start).RefilledTo(Start.AddHours(1), PerSecond, Burst);

        Assert.Equal(Burst, refilled.Tokens);
        // A clock that steps back takes nothing away and adds nothing.
        Assert.Equal(refilled, refilled.RefilledTo(Start, PerSecond, Burst));
    }
}
