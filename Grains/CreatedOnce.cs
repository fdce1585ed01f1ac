using Orleans.Core;
using Orleans.Storage;

namespace ChatGrains.Grains;

/// <summary>
/// The persistent state of a grain whose record is created once: the first write decides which
/// activation created it (a chat's record is updated afterwards, under its ETag).
/// </summary>
public class CreatedOnce<T> : RecordWithEvents where T : class
{
    public T? Value { get; set; }
}

/// <summary>A grain record whose writes may carry events (chats, guest and live-chat sessions).</summary>
public abstract class RecordWithEvents
{
    /// <summary>
    /// The events of the change being written (see <see cref="EventTypes"/>): stored with the
    /// record, where the database's trigger copies them into the event log in the same statement
    /// (or the storage writes them itself: <see cref="TakeEvents"/>).
    /// Set only for the write that carries them (<see cref="EventWrites.WriteAsync"/>) and never
    /// read back (no public setter), so no later write stores them again.
    /// </summary>
    public IReadOnlyList<RecordedEvent> Events { get; internal set; } = [];

    /// <summary>
    /// Takes the events out of the record before it is serialized, for a storage that writes
    /// them itself in the record's statement (PostgreSQL's batched one): left in, the trigger
    /// would store them a second time.
    /// </summary>
    public IReadOnlyList<RecordedEvent> TakeEvents()
    {
        var events = Events;
        Events = [];
        return events;
    }
}

internal static class CreatedOnceExtensions
{
    /// <summary>
    /// Answers from the activation's state when the record exists; otherwise writes the record
    /// <paramref name="create"/> makes, with the event <paramref name="created"/> makes of it.
    /// <c>Created</c> is true only for the activation whose write stored it, so whatever follows
    /// a creation (its event first) happens once per grain.
    /// </summary>
    public static async Task<(T Value, bool Created)> GetOrCreateAsync<TState, T>(
        this IStorage<TState> state, Func<T> create, Func<T, RecordedEvent> created)
        where TState : CreatedOnce<T>
        where T : class
    {
        if (state.State.Value is { } stored)
        {
            return (stored, false);
        }
        try
        {
            var value = create();
            state.State.Value = value;
            try
            {
                await state.WriteAsync([created(value)]);
                return (value, true);
            }
            catch (InconsistentStateException)
            {
                // A second activation of this grain (possible while the membership changes) wrote
                // first, under the ETag check: answer with the record it stored.
                await state.ReadStateAsync();
                return (state.State.Value ?? throw new InvalidOperationException("A conflicting write left no record."), false);
            }
        }
        catch
        {
            // Never answer later calls from memory with a record that was not stored.
            state.State.Value = null;
            throw;
        }
    }
}

internal static class EventWrites
{
    /// <summary>Writes the record with the events of its change, which are stored with it or not at all.</summary>
    public static async Task WriteAsync<TState>(this IStorage<TState> state, IReadOnlyList<RecordedEvent> events)
        where TState : RecordWithEvents
    {
        state.State.Events = events;
        try
        {
            await state.WriteStateAsync();
        }
        finally
        {
            state.State.Events = [];
        }
    }
}

internal static class StateWrites
{
    /// <summary>
    /// Writes a grain's changed state. On failure memory goes back to what is stored
    /// (<paramref name="restore"/>), so the grain never answers with what was not; when another
    /// activation wrote since this one read (possible while the membership changes), its state
    /// is taken and the caller retries against it.
    /// </summary>
    public static async Task WriteOrRestoreAsync<T>(this IStorage<T> state, Action restore)
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            await state.ReadStateAsync();
            throw;
        }
        catch
        {
            restore();
            throw;
        }
    }
}
