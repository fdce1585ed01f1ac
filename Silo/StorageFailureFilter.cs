using ChatGrains.Grains;

namespace ChatGrains.Silo;

/// <summary>
/// A grain call that ends with a failure of the database to serve
/// (<see cref="Failures.IsStorageUnavailable"/>) ends with <see cref="StorageUnavailableException"/>
/// instead, whichever grain it was: callers meet one known type, and nothing of the database
/// (hosts, SQL, file paths) crosses the grain boundary. Grains catch storage failures only to put
/// their memory back.
/// </summary>
internal sealed class StorageFailureFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception exception) when (Failures.IsStorageUnavailable(exception))
        {
            throw new StorageUnavailableException();
        }
    }
}
