using System.Diagnostics;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// The request's W3C trace id (an incoming <c>traceparent</c> is honoured by ASP.NET's hosting
/// layer), echoed in the <c>X-Trace-Id</c> response header and in the envelope's <c>trace_id</c>.
/// </summary>
public static class Tracing
{
    public const string HeaderName = "X-Trace-Id";

    private static readonly ActivityListener RequestActivities = new()
    {
        // Hosting creates the request's Activity only when someone listens; propagation data
        // is all a trace id needs, and costs no recording.
        ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
    };

    public static IServiceCollection AddTracing(this IServiceCollection services)
    {
        ActivitySource.AddActivityListener(RequestActivities);
        return services;
    }

    public static string TraceId(HttpContext http) =>
        Activity.Current is { } activity ? activity.TraceId.ToHexString() : http.TraceIdentifier;

    /// <summary>Set when the response starts, so error responses (whose headers the exception handler clears) keep it.</summary>
    public static IApplicationBuilder UseTraceIdHeader(this IApplicationBuilder app) =>
        app.Use((http, next) =>
        {
            http.Response.OnStarting(static state =>
            {
                var context = (HttpContext)state;
                context.Response.Headers[HeaderName] = TraceId(context);
                return Task.CompletedTask;
            }, http);
            return next(http);
        });
}
