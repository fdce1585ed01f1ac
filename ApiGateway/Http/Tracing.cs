using System.Diagnostics;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// The request's W3C trace id, echoed in the <c>X-Trace-Id</c> response header and in the
/// envelope's <c>trace_id</c>. An incoming <c>traceparent</c> is honoured only from a trusted
/// proxy (<see cref="TrustedPeerPropagator"/>); anyone else's request starts its own trace.
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
        // The propagator reads the connection's peer through the accessor (see TrustedPeerPropagator).
        services.AddHttpContextAccessor();
        // Replace, not TryAdd: the web host has already registered DistributedContextPropagator.Current.
        services.Replace(ServiceDescriptor.Singleton<DistributedContextPropagator>(sp => new TrustedPeerPropagator(
            DistributedContextPropagator.Current,
            sp.GetRequiredService<IHttpContextAccessor>(),
            sp.GetRequiredService<IOptions<ForwardedHeadersOptions>>())));
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

/// <summary>
/// Extracts <c>traceparent</c>/<c>tracestate</c> (and <c>Request-Id</c>, <c>baggage</c>) only from
/// requests whose peer is in <c>ForwardedHeaders:KnownProxies</c>; for anyone else there is no parent,
/// so a client cannot make its request (and its 500) carry another request's trace id.
/// </summary>
/// <remarks>
/// Hosting (<c>HostingApplicationDiagnostics.BeginRequest</c>) creates the request's Activity from the
/// headers with this DI-registered propagator before the first middleware runs, so a middleware that
/// strips the headers would be too late. The propagator is given only the headers, not the HttpContext;
/// the accessor has it because <c>DefaultHttpContextFactory</c> sets it just before hosting calls here.
/// </remarks>
internal sealed class TrustedPeerPropagator(
    DistributedContextPropagator inner,
    IHttpContextAccessor accessor,
    IOptions<ForwardedHeadersOptions> proxies) : DistributedContextPropagator
{
    public override IReadOnlyCollection<string> Fields => inner.Fields;

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter) =>
        inner.Inject(activity, carrier, setter);

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
    {
        if (IsUntrustedRequest(carrier))
        {
            traceId = null;
            traceState = null;
            return;
        }
        inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);
    }

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) =>
        IsUntrustedRequest(carrier) ? null : inner.ExtractBaggage(carrier, getter);

    /// <summary>
    /// Incoming HTTP headers whose request did not come from a known proxy. Fails closed: headers of a
    /// request the accessor does not know are untrusted. Other carriers are not this node's edge.
    /// </summary>
    private bool IsUntrustedRequest(object? carrier) =>
        carrier is IHeaderDictionary headers
        && !(accessor.HttpContext is { } http
            && ReferenceEquals(http.Request.Headers, headers)
            && TrustedProxies.IsKnownProxy(proxies.Value, http.Connection.RemoteIpAddress));
}
