using System.Collections.Concurrent;
using ChatGrains.Grains;
using Orleans.Streams;
using Orleans.Streams.Core;

namespace ChatGrains.Tests.Infrastructure;

/// <summary>
/// What the event streams delivered, recorded by implicit subscribers that run in the test
/// process's silos (every in-process node and test cluster loads this assembly's grains), one
/// activation per stream partition.
/// <para>
/// To know that every event of a stream has arrived without waiting for time, a test publishes
/// a marker on the same stream after its requests completed: a stream delivers in order, so when
/// the marker arrives nothing published before it is still on the way.
/// </para>
/// </summary>
public static class GrainEvents
{
    private static readonly ConcurrentDictionary<string, Stream> Streams = new(StringComparer.Ordinal);

    /// <summary>
    /// The events of one grain (by its id) delivered on its kind's stream, once every event
    /// published there before this call has arrived.
    /// </summary>
    public static Task<IReadOnlyList<object>> DeliveredAsync(IGrainFactory grains, string @namespace, Guid key) =>
        DeliveredAsync(grains, EventStreamIds.For(@namespace, key), key.ToString());

    public static Task<IReadOnlyList<object>> DeliveredAsync(IGrainFactory grains, string @namespace, string key) =>
        DeliveredAsync(grains, EventStreamIds.For(@namespace, key), key);

    private static async Task<IReadOnlyList<object>> DeliveredAsync(IGrainFactory grains, StreamId id, string grainKey)
    {
        var stream = StreamOf(id);
        var marker = Guid.NewGuid();
        var arrived = stream.Expect(marker);
        await grains.GetGrain<IEventMarkerGrain>(0).Publish(id, marker);
        await arrived.WaitAsync(TimeSpan.FromSeconds(30));
        return [.. stream.Events.Where(e => string.Equals(GrainKeyOf(e), grainKey, StringComparison.OrdinalIgnoreCase))];
    }

    /// <summary>The id of the grain an event is about (a partition's stream carries many grains' events).</summary>
    private static string? GrainKeyOf(object @event) => @event switch
    {
        ChatCreated created => created.ChatId.ToString(),
        GuestSessionStarted started => started.SessionKey,
        LiveChatSessionStarted started => started.SessionId.ToString(),
        _ => null,
    };

    internal static void Record(StreamId id, object @event)
    {
        var stream = StreamOf(id);
        if (@event is EventMarker marker)
        {
            stream.Arrived(marker.Id);
        }
        else
        {
            stream.Add(@event);
        }
    }

    private static Stream StreamOf(StreamId id) => Streams.GetOrAdd(id.ToString(), _ => new Stream());

    private sealed class Stream
    {
        private readonly ConcurrentQueue<object> _events = new();
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _markers = new();

        public IReadOnlyList<object> Events => [.. _events];

        public void Add(object @event) => _events.Enqueue(@event);

        public Task Expect(Guid marker) => _markers.GetOrAdd(marker, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public void Arrived(Guid marker) => _markers.GetOrAdd(marker, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}

/// <summary>Published by tests only, after the events they count.</summary>
[GenerateSerializer, Immutable, Alias("tests.EventMarker")]
public sealed record EventMarker([property: Id(0)] Guid Id);

public interface IEventMarkerGrain : IGrainWithIntegerKey
{
    Task Publish(StreamId stream, Guid marker);
}

public sealed class EventMarkerGrain : Grain, IEventMarkerGrain
{
    public Task Publish(StreamId stream, Guid marker) =>
        this.GetStreamProvider(EventStreams.Provider).GetStream<object>(stream).OnNextAsync(new EventMarker(marker));
}

/// <summary>Records every event of a stream namespace it is subscribed to.</summary>
public abstract class EventRecorder : Grain, IStreamSubscriptionObserver, IAsyncObserver<object>
{
    private StreamId _stream;

    public async Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory)
    {
        _stream = handleFactory.StreamId;
        await handleFactory.Create<object>().ResumeAsync(this);
    }

    public Task OnNextAsync(object item, StreamSequenceToken? token = null)
    {
        GrainEvents.Record(_stream, item);
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
}

[ImplicitStreamSubscription(EventStreams.ChatCreated)]
public sealed class ChatCreatedRecorder : EventRecorder, IGrainWithStringKey;

[ImplicitStreamSubscription(EventStreams.GuestSessionStarted)]
public sealed class GuestSessionStartedRecorder : EventRecorder, IGrainWithStringKey;

[ImplicitStreamSubscription(EventStreams.LiveChatSessionStarted)]
public sealed class LiveChatSessionStartedRecorder : EventRecorder, IGrainWithStringKey;
