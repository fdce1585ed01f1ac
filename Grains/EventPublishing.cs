using Microsoft.Extensions.Logging;
using Orleans.Streams;

namespace ChatGrains.Grains;

internal static partial class EventPublishing
{
    /// <summary>
    /// Publishes a creation event after the record was stored. The stored record is the durable
    /// fact: a failed publish is logged, never turned into a failed creation.
    /// </summary>
    public static async Task PublishAsync<TEvent>(this Grain grain, StreamId stream, TEvent @event, ILogger logger)
    {
        try
        {
            await grain.GetStreamProvider(EventStreams.Provider).GetStream<TEvent>(stream).OnNextAsync(@event);
        }
        catch (Exception exception)
        {
            LogPublishFailed(logger, exception, typeof(TEvent).Name, stream.GetNamespace());
        }
    }

    [LoggerMessage(LogLevel.Warning, "Publishing {Event} on {Namespace} failed; the stored record stands")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, string @event, string? @namespace);
}
