using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace ChatGrains.Grains;

/// <summary>
/// Which grain-call failures mean "a silo this call needed is gone" (the grain's host, or the
/// owner of its directory entry), as opposed to a bug: the callers wait, retry or degrade.
/// </summary>
public static class SiloFailures
{
    public static bool Caused(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException)
            {
                return true;
            }
        }
        return false;
    }
}
