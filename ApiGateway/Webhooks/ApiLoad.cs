using ChatGrains.Grains;

namespace ChatGrains.ApiGateway.Webhooks;

/// <summary>
/// Counts the write requests this node is serving (<c>POST</c>, <c>PUT</c>, <c>PATCH</c>,
/// <c>DELETE</c>), for webhook deliveries to yield to. Reads are left out (a long poll of the event
/// feed waits without working), and so is everything under <c>/hubs</c> (a connection lives for
/// hours; its messages are hub invocations, not requests).
/// </summary>
public sealed class ApiLoad : IApiLoad
{
    private int _writesInFlight;

    public int WritesInFlight => Volatile.Read(ref _writesInFlight);

    public static bool IsWrite(HttpRequest request) =>
        (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method) || HttpMethods.IsDelete(request.Method))
        && !request.Path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase);

    public async Task TrackAsync(HttpContext http, RequestDelegate next)
    {
        Interlocked.Increment(ref _writesInFlight);
        try
        {
            await next(http);
        }
        finally
        {
            Interlocked.Decrement(ref _writesInFlight);
        }
    }
}
