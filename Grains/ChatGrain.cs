using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Core;
using Orleans.Placement;
using Orleans.Storage;

namespace ChatGrains.Grains;

/// <summary>
/// One chat, and its conversation (<c>ChatGrain.Conversation.cs</c>). Created through HTTP on the
/// node that took the request; collected after <see cref="GrainLifetimes.CreatedIdle"/> idle, after
/// which the next call reads it back from storage.
/// </summary>
[PreferLocalPlacement]
public sealed partial class ChatGrain(
    [FromKeyedServices(GrainStorage.Name)] IGrainStorage grainStorage,
    IGrainContext grainContext,
    IOfferBook offers,
    IMessageLog messages,
    IChatDeadlines deadlines,
    ChatStorageFeatures storage,
    IOptions<ChatTimeouts> timeouts,
    GrainMetrics metrics,
    TimeProvider clock,
    ILogger<ChatGrain> logger) : Grain, IChatGrain, IIncomingGrainCallFilter
{
    /// <summary>
    /// The chat's record, read when the activation's first call needs it (<see cref="LoadAsync"/>)
    /// rather than at activation: a creation on a storage that stores a new chat in one statement
    /// (<see cref="ChatStorageFeatures"/>) learns from its insert whether the chat exists, so a new
    /// chat costs no read.
    /// </summary>
    private readonly StateStorageBridge<ChatRecord> state = new(GrainStorage.Chat, grainContext, grainStorage);

    /// <summary>Completes once this activation holds the stored record; null until a call needs it, and again after a failed read.</summary>
    private Task? _loaded;

    private bool _countedOpen;

    /// <summary>When the chat's last message was sent: derived from the message log when the record is loaded, kept by each message since.</summary>
    private DateTimeOffset? _lastMessageAt;

    /// <summary>The chat's last stored event number: of its record or of its last message, whichever is later.</summary>
    private long _lastEventSeq;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // An empty record until loaded: only a creation runs before that (see Invoke).
        state.State = new ChatRecord();
        return Task.CompletedTask;
    }

    /// <summary>Every call on the chat but a creation loads its record first; a creation decides for itself (<see cref="Open"/>).</summary>
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (_loaded is not { IsCompletedSuccessfully: true }
            && context.Grain == this && context.ImplementationMethod.Name is not (nameof(Open) or nameof(CreateOrGet)))
        {
            await LoadAsync();
        }
        await context.Invoke();
    }

    private Task LoadAsync() => LoadAsync(read: true);

    /// <param name="read">False when the record was just read (by a creation whose insert found it stored).</param>
    private async Task LoadAsync(bool read)
    {
        _loaded ??= LoadStoredAsync(read);
        try
        {
            await _loaded;
        }
        catch
        {
            // The next call reads again.
            _loaded = null;
            throw;
        }
    }

    private async Task LoadStoredAsync(bool read)
    {
        if (read)
        {
            await state.ReadStateAsync();
        }
        await RecordLeftoverOffersAsync();
        await LoadConversationAsync();
        CountOpen();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_countedOpen)
        {
            metrics.OpenActive(-1);
            _countedOpen = false;
        }
        return Task.CompletedTask;
    }

    /// <summary>Keeps this activation's part of the node's open-chats gauge in step with its chat.</summary>
    private void CountOpen()
    {
        var open = state.State.Value is { Status: not ChatStatus.Closed };
        if (open != _countedOpen)
        {
            metrics.OpenActive(open ? 1 : -1);
            _countedOpen = open;
        }
    }

    public async Task<ChatCreation> CreateOrGet(CreateChat command)
    {
        if (!storage.StoresNewChatRows)
        {
            await LoadAsync();
        }
        return await CreateAsync(command);
    }

    public async Task<ChatOpening> Open(CreateChat command, ChatCreationLimits limits)
    {
        // A replay is answered from the stored record: no limit is consulted or charged. So only a
        // creation that consults none may leave it to its insert to tell whether the chat exists.
        if (limits.ConsultsAny || !storage.StoresNewChatRows)
        {
            await LoadAsync();
        }
        if (state.State.Value is { } stored)
        {
            return new ChatOpening(stored, Created: false, [], Refusal: null);
        }

        var decisions = await AcquireAsync(limits.RateLimits);
        if (decisions.Any(d => !d.Admitted))
        {
            return new ChatOpening(null, Created: false, decisions, ChatRefusal.RateLimited);
        }

        if (limits.OnDutyCommercialIds is { } onDuty && !await AllKnownAsync(command.AvailableCommercialIds, onDuty))
        {
            return new ChatOpening(null, Created: false, decisions, ChatRefusal.UnknownCommercial);
        }

        // Reserved before the write, so two creations racing at a cap are decided one after the
        // other by the single activation of the visitor's (or the address's) grain.
        var chatId = this.GetPrimaryKey();
        var reservations = new List<Func<Task>>(2);
        if (limits.MaxOpenPerVisitor is { } maxOpen)
        {
            var visitor = GrainFactory.GetGrain<IVisitorGrain>(command.VisitorId);
            if (!(await visitor.ReserveChat(chatId, maxOpen)).Admitted)
            {
                return new ChatOpening(null, Created: false, decisions, ChatRefusal.VisitorAtCap);
            }
            reservations.Add(() => visitor.ReleaseChat(chatId));
        }
        if (limits.ClientAddressCap is { } cap)
        {
            var address = GrainFactory.GetGrain<IClientAddressGrain>(cap.ClientKey);
            if (!(await address.ReservePendingChat(chatId, cap.MaxPending)).Admitted)
            {
                await ReleaseAsync(reservations);
                return new ChatOpening(null, Created: false, decisions, ChatRefusal.ClientAddressAtCap);
            }
            reservations.Add(() => address.ReleasePendingChat(chatId));
        }
        ChatCreation creation;
        try
        {
            creation = await CreateAsync(command);
        }
        catch
        {
            await ReleaseAsync(reservations);
            throw;
        }
        // Another activation stored this chat first, for someone else: the reservations count nothing.
        if (!creation.Created && creation.Chat.VisitorId != command.VisitorId)
        {
            await ReleaseAsync(reservations);
        }
        return new ChatOpening(creation.Chat, creation.Created, decisions, Refusal: null);
    }

    /// <summary>
    /// Whether every commercial is on duty or has signed in, all asked before any offer is
    /// recorded, so a refused creation writes nothing, not even a commercial's record.
    /// </summary>
    private async Task<bool> AllKnownAsync(Guid[] commercialIds, Guid[] onDuty)
    {
        var signedIn = await Task.WhenAll(commercialIds.Except(onDuty).Select(id => GrainFactory.GetGrain<ICommercialGrain>(id).HasSignedIn()));
        return signedIn.All(known => known);
    }

    private async Task<ChatCreation> CreateAsync(CreateChat command)
    {
        var now = Now();
        var newRows = new NewChatRows(this.GetPrimaryKey(), command.AvailableCommercialIds, UnansweredAt(now));
        if (state.State.Value is null && !storage.StoresNewChatRows)
        {
            // Both before the record: a node dying after its write loses neither.
            await Task.WhenAll(offers.RecordAsync(newRows.ChatId, newRows.OfferedTo), deadlines.SetAsync(newRows.ChatId, newRows.UnansweredAt));
        }
        var (chat, created) = await state.GetOrCreateAsync(
            () =>
            {
                state.State.LastEventSeq = 1;
                state.State.NewChatRows = storage.StoresNewChatRows ? newRows : null;
                return NewChat(command, now);
            },
            newChat => new RecordedEvent(EventTypes.ChatCreated, newChat.CreatedAt, newChat.Id, ChatSeq: 1));
        _lastEventSeq = Math.Max(_lastEventSeq, state.State.LastEventSeq);
        if (!created)
        {
            // The record was stored before: when this activation's insert found it, it has just
            // been read, and is loaded here as any other call loads it.
            await LoadAsync(read: false);
            chat = state.State.Value ?? chat;
        }
        _loaded ??= Task.CompletedTask;
        if (created)
        {
            metrics.Created(GrainStorage.Chat);
            metrics.EventStored(EventTypes.ChatCreated);
            CountOpen();
            await AnnounceOffersAsync(chat);
            DeactivateOnIdle(); // GrainLifetimes: a new chat's next call is seldom within seconds
        }
        return new ChatCreation(chat, created);
    }

    /// <summary>
    /// Charges each limit in order; once one refuses, the rest are only peeked, so a refused
    /// creation costs no permit of the limits after the one that refused it.
    /// </summary>
    private async Task<RateLimitDecision[]> AcquireAsync(RateLimitRule[] rules)
    {
        var decisions = new RateLimitDecision[rules.Length];
        var refused = false;
        for (var i = 0; i < rules.Length; i++)
        {
            var limiter = GrainFactory.GetGrain<IRateLimitGrain>(rules[i].Key);
            decisions[i] = refused
                ? await limiter.PeekOrAdmitAsync(rules[i].Limit, rules[i].Window, rules[i].AnswerWait, logger)
                : await limiter.AcquireOrAdmitAsync(rules[i].Limit, rules[i].Window, rules[i].AnswerWait, logger);
            refused |= !decisions[i].Admitted;
        }
        return decisions;
    }

    /// <summary>
    /// Best effort: when the database that failed the chat's write fails this too, a reservation
    /// stays until the client retries the same chatId (which it then admits without counting
    /// again); the address's grain also forgets it once it finds the chat was never stored.
    /// </summary>
    private async Task ReleaseAsync(List<Func<Task>> reservations)
    {
        foreach (var release in reservations)
        {
            try
            {
                await release();
            }
            catch (Exception exception)
            {
                LogReleaseFailed(logger, exception, this.GetPrimaryKey());
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "Could not release a reservation of chat {ChatId} after its creation failed or counted nothing")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, Guid chatId);

    // Millisecond precision is what the wire shows; storing more would make a replay's
    // timestamps differ from the first response's.
    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(clock.GetUtcNow().ToUnixTimeMilliseconds());

    private Chat NewChat(CreateChat command, DateTimeOffset now) =>
        new(
            Id: this.GetPrimaryKey(),
            Status: ChatStatus.Pending,
            Priority: command.Priority,
            VisitorId: command.VisitorId,
            AssignedCommercialId: null,
            AvailableCommercialIds: command.AvailableCommercialIds,
            TotalMessages: 0,
            UnreadMessagesCount: 0,
            IsActive: true,
            Visitor: command.Visitor,
            Metadata: command.Metadata,
            CreatedAt: now,
            UpdatedAt: now);
}
