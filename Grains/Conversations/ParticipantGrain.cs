using Microsoft.Extensions.Logging;
using Orleans.Utilities;

namespace ChatGrains.Grains;

/// <summary>
/// What every participant grain does with connections: it knows the nodes its participant is
/// connected to (one observer per node, not per connection) and passes events to them. Kept in
/// memory only: nodes refresh their registrations (see <see cref="RegistrationLifetime"/>), and
/// re-register at once when the membership changes, since that may have moved this grain.
/// </summary>
public abstract class ParticipantGrain : Grain, IParticipantGrain
{
    /// <summary>A registration not refreshed for this long is dropped (a node refreshes every minute).</summary>
    public static readonly TimeSpan RegistrationLifetime = TimeSpan.FromMinutes(3);

    private readonly ObserverManager<IConversationObserver> _nodes;

    protected ParticipantGrain(ILogger logger) => _nodes = new ObserverManager<IConversationObserver>(RegistrationLifetime, logger);

    protected abstract Participant Self { get; }

    public Task Subscribe(IConversationObserver node)
    {
        _nodes.Subscribe(node, node);
        return Task.CompletedTask;
    }

    public Task Unsubscribe(IConversationObserver node)
    {
        _nodes.Unsubscribe(node);
        return Task.CompletedTask;
    }

    // A node that fails the call (it died) is dropped by the manager; it re-registers if it is back.
    public Task Deliver(ConversationEvent conversationEvent) => _nodes.Notify(node => node.Deliver(Self, conversationEvent));
}
