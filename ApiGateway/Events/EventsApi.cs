using System.Globalization;
using System.Text;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Chats;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Events;

/// <summary>
/// <c>GET /v2/events</c>: the event log for consumers that pull (admins and <c>integration</c>
/// tokens). A consumer keeps <c>nextCursor</c> and asks again with it: it never misses an event,
/// and sees each chat's events in <c>chatSeq</c> order.
/// </summary>
public static class EventsApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;
    public const int MaxWaitSeconds = 30;

    public static RouteGroupBuilder MapEventsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapV2Group("/v2/events", "Events (v2)", AuthExtensions.EventReaderPolicy);
        group.MapGet("", Read)
            .WithName("ReadEvents")
            .WithSummary("The events stored after the cursor, oldest first; with wait, waits up to that many seconds for one.")
            .Produces<EventsPage>()
            .ProducesValidationProblem();
        return group;
    }

    private static async Task<Results<Ok<EventsPage>, ValidationProblem>> Read(
        string? after, string? limit, string? types, string? wait,
        IEventLog log, EventEnvelopes envelopes, IOptions<EventsOptions> options, TimeProvider clock, HttpContext http)
    {
        var errors = new FieldErrors();
        var position = EventCursor.Parse(errors, after);
        var count = (int)errors.Whole("limit", limit, DefaultLimit, 1, MaxLimit);
        var wanted = Types(errors, types);
        var waitFor = TimeSpan.FromSeconds(errors.Whole("wait", wait, 0, 0, MaxWaitSeconds));
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request has invalid fields.");
        }

        var deadline = clock.GetUtcNow() + waitFor;
        var page = await log.ReadAsync(position, count, wanted, http.RequestAborted);
        while (page.Events.Count == 0 && clock.GetUtcNow() < deadline)
        {
            await Task.Delay(options.Value.PollInterval, clock, http.RequestAborted);
            page = await log.ReadAsync(page.Next, count, wanted, http.RequestAborted);
        }
        return TypedResults.Ok(new EventsPage([.. page.Events.Select(envelopes.From)], EventCursor.Format(page.Next)));
    }

    private static string[]? Types(FieldErrors errors, string? types)
    {
        if (types is null)
        {
            return null;
        }
        var listed = types.Split(',', StringSplitOptions.TrimEntries);
        var unknown = listed.Where(type => !EventTypes.All.Contains(type, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0 || listed.Length == 0)
        {
            errors.Add("types", $"'types' must be a comma-separated list of: {string.Join(", ", EventTypes.All)}.");
            return null;
        }
        return [.. listed.Distinct(StringComparer.Ordinal)];
    }
}

/// <summary>A page of the feed: the events, and the cursor to ask with next.</summary>
public sealed record EventsPage(IReadOnlyList<EventEnvelope> Events, string NextCursor);

/// <summary>
/// The opaque cursor of <c>GET /v2/events</c>: a position in the log's order, base64url-encoded so
/// that no consumer builds one by hand.
/// </summary>
public static class EventCursor
{
    private const string Prefix = "v1.";

    public static string Format(EventPosition position) =>
        Base64Url(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Prefix}{position.Transaction}.{position.Row}")));

    public static EventPosition Parse(FieldErrors errors, string? cursor)
    {
        if (cursor is null)
        {
            return EventPosition.Start;
        }
        if (cursor.Length <= 64 && TryDecode(cursor, out var text) && text.StartsWith(Prefix, StringComparison.Ordinal)
            && text[Prefix.Length..].Split('.') is [var transaction, var row]
            && ulong.TryParse(transaction, NumberStyles.None, CultureInfo.InvariantCulture, out var tx)
            && long.TryParse(row, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return new EventPosition(tx, number);
        }
        errors.Add("after", "'after' must be a nextCursor this API returned.");
        return EventPosition.Start;
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecode(string cursor, out string text)
    {
        text = "";
        var base64 = cursor.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - base64.Length % 4) % 4);
        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var written))
        {
            return false;
        }
        text = Encoding.ASCII.GetString(bytes, 0, written);
        return true;
    }
}
