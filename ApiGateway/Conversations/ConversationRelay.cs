using System.Collections.Concurrent;
using ChatGrains.ApiGateway.Chats;
using ChatGrains.Grains;
using Microsoft.AspNetCore.SignalR;
using Orleans.Runtime;

namespace ChatGrains.ApiGateway.Conversations;

/// <summary>
/// This node's delivery point for conversation events. One grain observer per node: the
/// participant grain of every user with a connection here has it registered, and what they
/// deliver goes to that user's connections on this node through SignalR.
/// <para>
/// Registrations live in the participant grains' memory, so they are refreshed every
/// <see cref="RefreshInterval"/> and at once when a silo leaves or dies (the grain may have
/// moved with it, forgetting them); then every connection here is sent <c>resync</c>, since an
/// event may have gone to the moved grain meanwhile, and the clients fetch what they missed
/// (<c>JoinChat</c> with their last sequence number).
/// </para>
/// </summary>
public sealed partial class ConversationRelay(
    IGrainFactory grains,
    IHubContext<LiveChatHub> hub,
    IClusterMembershipService membership,
    ILogger<ConversationRelay> logger) : BackgroundService, IConversationObserver
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<Participant, int> _connections = new();

    private IConversationObserver? _reference;

    // Made on first use: the silo is not running yet when services are built.
    private IConversationObserver Self =>
        LazyInitializer.EnsureInitialized(ref _reference, () => grains.CreateObjectReference<IConversationObserver>(this));

    /// <summary>A connection of <paramref name="participant"/> opened here; counted once registered.</summary>
    public async Task ConnectedAsync(Participant participant)
    {
        // Every connection registers (not only the first): cheap, and idempotent.
        await Participant(participant).Subscribe(Self);
        _connections.AddOrUpdate(participant, 1, (_, count) => count + 1);
    }

    /// <summary>A connection that <see cref="ConnectedAsync"/> counted closed here.</summary>
    public async Task DisconnectedAsync(Participant participant)
    {
        var left = _connections.AddOrUpdate(participant, 0, (_, count) => count - 1);
        if (left > 0 || !_connections.TryRemove(new KeyValuePair<Participant, int>(participant, 0)))
        {
            return;
        }
        try
        {
            await Participant(participant).Unsubscribe(Self);
            // A connection that opened meanwhile registered before this unregistration: again.
            if (_connections.ContainsKey(participant))
            {
                await Participant(participant).Subscribe(Self);
            }
        }
        catch (Exception exception)
        {
            // An unregistration expires by itself; a missed registration is made by the next refresh.
            LogUnsubscribeFailed(logger, exception);
        }
    }

    public Task Deliver(Participant recipient, ConversationEvent conversationEvent)
    {
        // A group, not Clients.User: SignalR finds a user's connections by scanning every
        // connection on the node (a third of the node's CPU with 2,000 connections), a group's
        // by a lookup. Each connection joins its participant's group (LiveChatHub).
        var user = hub.Clients.Group(HubIdentity.UserId(recipient));
        return conversationEvent switch
        {
            ChatOffered offered => user.SendAsync(HubEvents.ChatOffered, ChatResponse.From(offered.Chat)),
            ChatTaken taken => user.SendAsync(HubEvents.ChatTaken, new ChatIdResource(taken.ChatId)),
            ChatAccepted accepted => user.SendAsync(HubEvents.ChatAccepted, ChatResponse.From(accepted.Chat)),
            MessageReceived received => user.SendAsync(HubEvents.Message, MessageResource.From(received.ChatId, received.Message)),
            ChatClosed closed => user.SendAsync(HubEvents.ChatClosed, ChatResponse.From(closed.Chat)),
            ChatWithdrawn withdrawn => user.SendAsync(HubEvents.ChatWithdrawn, new ChatIdResource(withdrawn.ChatId)),
            ChatReopened reopened => user.SendAsync(HubEvents.ChatReopened, ChatResponse.From(reopened.Chat)),
            ChatRated rated => user.SendAsync(HubEvents.ChatRated, ChatResponse.From(rated.Chat)),
            ChatIdle idle => user.SendAsync(HubEvents.ChatIdle, new ChatIdleResource(idle.ChatId, idle.ClosesAt)),
            _ => Task.CompletedTask,
        };
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.WhenAll(RefreshPeriodicallyAsync(stoppingToken), ResyncOnSiloChangesAsync(stoppingToken));
    }

    private async Task RefreshPeriodicallyAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        while (await timer.WaitForNextTickAsync(stopping))
        {
            await RefreshAsync();
        }
    }

    private async Task ResyncOnSiloChangesAsync(CancellationToken stopping)
    {
        HashSet<SiloAddress> active = [];
        HashSet<SiloAddress> notDead = [];
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stopping))
            {
                var now = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToHashSet();
                var stillThere = snapshot.Members.Values.Where(m => m.Status != SiloStatus.Dead).Select(m => m.SiloAddress).ToHashSet();
                // A silo that stops gracefully is no longer Active before it has deactivated its
                // grains, and Dead only after: a refresh at the first can land on a participant
                // grain about to go (its registrations with it), so the second counts too.
                var lost = (active.Count > 0 && active.Except(now).Any()) || notDead.Except(stillThere).Any();
                active = now;
                notDead = stillThere;
                if (lost && !_connections.IsEmpty)
                {
                    await RefreshAsync();
                    await hub.Clients.All.SendAsync(HubEvents.Resync, stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task RefreshAsync()
    {
        foreach (var participant in _connections.Keys)
        {
            try
            {
                await Participant(participant).Subscribe(Self);
            }
            catch (Exception exception)
            {
                LogRefreshFailed(logger, exception);
            }
        }
    }

    private IParticipantGrain Participant(Participant participant) => participant.Role == ParticipantRole.Visitor
        ? grains.GetGrain<IVisitorGrain>(participant.Id)
        : grains.GetGrain<ICommercialGrain>(participant.Id);

    [LoggerMessage(LogLevel.Information, "Could not unregister a participant's connections from this node; the registration expires")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(LogLevel.Warning, "Could not refresh a participant's registration of this node; retried at the next refresh")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}

/// <summary>The events the hub sends, by name.</summary>
public static class HubEvents
{
    public const string ChatOffered = "chatOffered";
    public const string ChatTaken = "chatTaken";
    public const string ChatAccepted = "chatAccepted";
    public const string Message = "message";
    public const string ChatClosed = "chatClosed";
    public const string ChatWithdrawn = "chatWithdrawn";
    public const string ChatReopened = "chatReopened";
    public const string ChatRated = "chatRated";
    public const string ChatIdle = "chatIdle";
    public const string ChatAssigned = "chatAssigned";
    public const string Resync = "resync";
}
