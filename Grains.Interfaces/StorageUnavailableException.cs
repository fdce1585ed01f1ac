namespace ChatGrains.Grains;

/// <summary>
/// The database cannot be reached, or this node has not joined its cluster yet. Callers answer
/// 503 and retry later; the node itself stays up.
/// </summary>
[GenerateSerializer, Alias("chatgrains.StorageUnavailableException")]
public sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException() : base("The database is unavailable.") { }

    public StorageUnavailableException(string message) : base(message) { }

    public StorageUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}
