using ChatGrains.Grains;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;

namespace ChatGrains.Tests.Unit;

/// <summary>A limiter that cannot answer admits; one that answers decides; a bug is not hidden.</summary>
public sealed class RateLimiterCallsTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task ALimiterThatAnswersDecides()
    {
        var refusal = new RateLimitDecision(Admitted: false, Limit: 5, Remaining: 0, NextPermitIn: TimeSpan.FromSeconds(42));
        var limiter = new Limiter(() => Task.FromResult(refusal));

        Assert.Equal(refusal, await limiter.AcquireOrAdmitAsync(5, Window, RateLimiterCalls.DefaultAnswerWait, NullLogger.Instance));
        Assert.Equal(refusal, await limiter.PeekOrAdmitAsync(5, Window, RateLimiterCalls.DefaultAnswerWait, NullLogger.Instance));
    }

    [Fact]
    public async Task ALimiterWhoseSiloIsGoneAdmits()
    {
        var limiter = new Limiter(() => Task.FromException<RateLimitDecision>(new SiloUnavailableException()));

        var decision = await limiter.AcquireOrAdmitAsync(5, Window, RateLimiterCalls.DefaultAnswerWait, NullLogger.Instance);

        Assert.Equal(new RateLimitDecision(Admitted: true, Limit: 5, Remaining: 4, NextPermitIn: Window), decision);
    }

    [Fact]
    public async Task ALimiterThatNeverAnswersAdmitsAfterTheWait()
    {
        var limiter = new Limiter(() => new TaskCompletionSource<RateLimitDecision>().Task);

        var decision = await limiter.AcquireOrAdmitAsync(5, Window, RateLimiterCalls.DefaultAnswerWait, NullLogger.Instance);

        Assert.True(decision.Admitted);
    }

    [Fact]
    public async Task AnyOtherFailureIsTheCallersToSee()
    {
        var limiter = new Limiter(() => Task.FromException<RateLimitDecision>(new InvalidOperationException("a bug")));

        await Assert.ThrowsAsync<InvalidOperationException>(() => limiter.AcquireOrAdmitAsync(5, Window, RateLimiterCalls.DefaultAnswerWait, NullLogger.Instance));
    }

    private sealed class Limiter(Func<Task<RateLimitDecision>> answer) : IRateLimitGrain
    {
        public Task<RateLimitDecision> Acquire(int limit, TimeSpan window) => answer();

        public Task<RateLimitDecision> Peek(int limit, TimeSpan window) => answer();
    }
}
