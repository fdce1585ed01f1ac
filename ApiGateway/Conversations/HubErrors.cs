using System.Globalization;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.AspNetCore.SignalR;

namespace ChatGrains.ApiGateway.Conversations;

/// <summary>
/// The hub's errors: a <see cref="HubException"/> whose message starts with a code and a colon
/// (<c>CHAT_ALREADY_TAKEN: …</c>). SignalR passes a HubException's message to the caller and
/// nothing of any other exception, so no internals leave the node.
/// </summary>
public static class HubErrors
{
    public const string ValidationFailed = "VALIDATION_FAILED";
    public const string ChatNotFound = "CHAT_NOT_FOUND";
    public const string NotOffered = "NOT_OFFERED";
    public const string ChatAlreadyTaken = "CHAT_ALREADY_TAKEN";
    public const string NotParticipant = "NOT_A_PARTICIPANT";
    public const string ChatClosed = "CHAT_CLOSED";
    public const string MessageIdInUse = "MESSAGE_ID_IN_USE";
    public const string Unavailable = "UNAVAILABLE";
    public const string RateLimited = "RATE_LIMITED";
    public const string AwaitingAgent = "AWAITING_AGENT";
    public const string ChatNotClosed = "CHAT_NOT_CLOSED";
    public const string ReopenWindowPassed = "REOPEN_WINDOW_PASSED";
    public const string AlreadyRated = "ALREADY_RATED";
    public const string VisitorAtCap = "VISITOR_AT_CAP";
    public const string RoleCannotAccept = "ROLE_CANNOT_ACCEPT";

    public static HubException Error(string code, string message) => new($"{code}: {message}");

    public static HubException Invalid(string message) => Error(ValidationFailed, message);

    /// <summary>Whole milliseconds, rounded up, so a client that waits them is admitted.</summary>
    public static HubException TooManyMessages(TimeSpan retryAfter) =>
        Error(RateLimited, string.Create(CultureInfo.InvariantCulture,
            $"Too many messages from this sender; retry after {Math.Max(1, (long)Math.Ceiling(retryAfter.TotalMilliseconds))} ms."));

    public static HubException Invalid(FieldErrors errors) =>
        Invalid(string.Join(" ", errors.ToDictionary().SelectMany(field => field.Value)));

    public static HubException For(ConversationRefusal refusal)
    {
        var (code, message) = CodeOf(refusal);
        return Error(code, message);
    }

    /// <summary>A refusal's code and explanation, the same for the hub and for HTTP's problem details.</summary>
    public static (string Code, string Message) CodeOf(ConversationRefusal refusal) => refusal switch
    {
        ConversationRefusal.NotFound => (ChatNotFound, "No chat has this id."),
        ConversationRefusal.NotOffered => (NotOffered, "The chat is not offered to this commercial."),
        ConversationRefusal.AlreadyTaken => (ChatAlreadyTaken, "Another commercial accepted the chat first."),
        ConversationRefusal.NotParticipant => (NotParticipant, "Only the chat's visitor and its assigned commercial may do this."),
        ConversationRefusal.Closed => (ChatClosed, "The chat is closed."),
        ConversationRefusal.MessageIdInUse => (MessageIdInUse, "This clientMessageId belongs to another sender's message."),
        ConversationRefusal.OutOfRange => (ValidationFailed, "The sequence number must be from 0 to the chat's totalMessages."),
        ConversationRefusal.AwaitingAgent => (AwaitingAgent, "The chat holds as many messages as it may before an agent accepts it; write again once one has."),
        ConversationRefusal.NotClosed => (ChatNotClosed, "The chat is not closed."),
        ConversationRefusal.ReopenWindowPassed => (ReopenWindowPassed, "The chat closed longer ago than it may be reopened; start a new chat."),
        ConversationRefusal.AlreadyRated => (AlreadyRated, "The visitor has rated this episode of the chat already."),
        ConversationRefusal.VisitorAtCap => (VisitorAtCap, "The visitor has as many open chats as it may; close one first."),
        _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal, null),
    };
}

/// <summary>
/// Hub calls and connections get what HTTP requests get from <see cref="ClusterAvailability"/>:
/// one retry once the membership has moved past a silo that died under the call (every hub
/// method is idempotent: a message by its client id, an accept by its winner), and
/// <c>UNAVAILABLE</c> (retry later) instead of a generic error when the cluster cannot serve.
/// A connection whose registration fails is closed, and its client reconnects.
/// <para>
/// SignalR logs every failed invocation as an error, refusals of client mistakes included, so
/// that log is off (<see cref="ConversationsHub"/>) and this filter logs what is a failure of
/// the node: an exception that is not a <see cref="HubException"/> and not unavailability.
/// </para>
/// </summary>
public sealed partial class HubCallFilter(ILogger<HubCallFilter> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await ClusterAvailability.CallAsync(invocationContext.ServiceProvider,
                () => next(invocationContext).AsTask(), invocationContext.Context.ConnectionAborted);
        }
        catch (Exception exception) when (exception is not HubException && Failures.ShouldRetryLater(exception))
        {
            throw HubErrors.Error(HubErrors.Unavailable, "The service cannot take this now; retry in a few seconds.");
        }
        catch (Exception exception) when (exception is not HubException)
        {
            LogFailed(logger, exception, invocationContext.HubMethodName);
            throw;
        }
    }

    public Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next) =>
        ClusterAvailability.CallAsync(context.ServiceProvider, async () =>
        {
            await next(context);
            return true;
        }, context.Context.ConnectionAborted);

    [LoggerMessage(LogLevel.Error, "Hub method {HubMethod} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string hubMethod);
}
