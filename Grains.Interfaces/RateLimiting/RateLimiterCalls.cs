using Microsoft.Extensions.Logging;

namespace ChatGrains.Grains;

/// <summary>
/// Asking a limiter that may not answer. Its count lives in one activation; when that
/// activation's silo dies, nothing can answer for it until the membership declares the death
/// (seconds), and the count restarts at zero after. Refusing its clients meanwhile would turn one
/// node's death into seconds of outage for every client whose limiter lived there; admitting
/// forgives no more than the restart at zero does. A limiter that answers, slowly or not, decides.
/// </summary>
public static partial class RateLimiterCalls
{
    /// <summary>
    /// How long a caller waits for a limiter by default (<c>RateLimiting:LimiterAnswerWait</c>; an
    /// in-memory count answers in microseconds, a silo that just died not for seconds).
    /// </summary>
    public static readonly TimeSpan DefaultAnswerWait = TimeSpan.FromSeconds(1);

    public static Task<RateLimitDecision> AcquireOrAdmitAsync(this IRateLimitGrain limiter, int limit, TimeSpan window, TimeSpan wait, ILogger logger) =>
        OrAdmitAsync(limiter.Acquire(limit, window), limit, window, wait, logger);

    public static Task<RateLimitDecision> PeekOrAdmitAsync(this IRateLimitGrain limiter, int limit, TimeSpan window, TimeSpan wait, ILogger logger) =>
        OrAdmitAsync(limiter.Peek(limit, window), limit, window, wait, logger);

    private static Task<RateLimitDecision> OrAdmitAsync(Task<RateLimitDecision> call, int limit, TimeSpan window, TimeSpan wait, ILogger logger) =>
        // As if the count had restarted with this request, which is what the limiter's next activation does.
        call.OrWhenUnansweredAsync(new RateLimitDecision(Admitted: true, limit, Math.Max(limit - 1, 0), window), wait, logger);

    /// <summary>
    /// The limiter's answer, or <paramref name="admitted"/> (what admitting means to this limiter)
    /// when it does not answer within <paramref name="wait"/>.
    /// </summary>
    public static async Task<T> OrWhenUnansweredAsync<T>(this Task<T> call, T admitted, TimeSpan wait, ILogger logger)
    {
        try
        {
            return await call.WaitAsync(wait);
        }
        catch (Exception exception) when (exception is TimeoutException || Failures.IsSiloLost(exception))
        {
            LogAdmittedUnanswered(logger, exception.GetType().Name);
            return admitted;
        }
    }

    [LoggerMessage(LogLevel.Warning, "A rate limiter did not answer ({Failure}); the request is admitted")]
    private static partial void LogAdmittedUnanswered(ILogger logger, string failure);
}
