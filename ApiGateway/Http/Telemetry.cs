using ChatGrains.Grains;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// OpenTelemetry: the ASP.NET Core, runtime, Orleans, Npgsql and ChatGrains meters, scraped by
/// Prometheus at <c>/metrics</c>; with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, metrics and traces
/// (HTTP request → grain call → database) also go out over OTLP. The trace id an API returns is
/// the request Activity's, so it is the exported trace's id.
/// </summary>
public static class Telemetry
{
    /// <summary><c>Metrics:Enabled</c> (default true): false keeps no meter provider and maps no <c>/metrics</c>.</summary>
    public static bool MetricsEnabled(IConfiguration configuration) => configuration.GetValue("Metrics:Enabled", true);

    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("chatgrains"));
        if (MetricsEnabled(configuration))
        {
            telemetry.WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("Microsoft.Orleans", GrainMetrics.MeterName)
                .AddNpgsqlInstrumentation()
                .AddPrometheusExporter());
        }
        // Without an exporter a recording tracer costs every request and is read by nobody.
        if (otlp)
        {
            telemetry
                .WithTracing(tracing => tracing
                    .AddAspNetCoreInstrumentation()
                    .AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                    .AddNpgsql())
                .UseOtlpExporter();
        }
        return services;
    }
}
