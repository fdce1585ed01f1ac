using System.Net;
using System.Text.Json.Nodes;
using ChatGrains.Tests.GuestSessions;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatGrains.Tests.RateLimiting;

/// <summary>
/// A client's permits come back once its window has passed: the node's wall clock is moved on a
/// minute instead of waiting one (timers and timeouts keep real time).
/// </summary>
public sealed class RateLimitWindowTests
{
    /// <summary>The system clock, its wall time moved on by <see cref="Advance"/>.</summary>
    private sealed class MovableClock : TimeProvider
    {
        private long _offsetTicks;

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
    }

    [Fact]
    public async Task AClientRefusedForTheMinuteIsAdmittedAgainOnceTheMinuteHasPassed()
    {
        var clock = new MovableClock();
        await using var node = await TestNode.StartOnSqliteAsync(
            new Dictionary<string, string?> { ["RateLimiting:PermitsPerMinute"] = "2" },
            builder => builder.Services.AddSingleton<TimeProvider>(clock));
        Task<HttpResponseMessage> PostAsync() => node.Client.PostSessionAsync(new JsonObject { ["session_id"] = GuestSessionRequests.NewSessionId() });

        for (var i = 0; i < 2; i++)
        {
            using var admitted = await PostAsync();
            Assert.Equal(HttpStatusCode.Created, admitted.StatusCode);
        }
        using (var refused = await PostAsync())
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            var retryAfter = refused.Headers.RetryAfter?.Delta;
            Assert.True(retryAfter is { } wait && wait > TimeSpan.Zero && wait <= TimeSpan.FromSeconds(60), $"Retry-After: {refused.Headers.RetryAfter}");
        }

        // Not yet: half the window later the two permits are still spent.
        clock.Advance(TimeSpan.FromSeconds(30));
        using (var stillRefused = await PostAsync())
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, stillRefused.StatusCode);
        }

        clock.Advance(TimeSpan.FromSeconds(31));
        for (var i = 0; i < 2; i++)
        {
            using var again = await PostAsync();
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        }
        using var refusedAgain = await PostAsync();
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedAgain.StatusCode);
    }
}
