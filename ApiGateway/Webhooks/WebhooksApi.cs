using System.Text.Json.Serialization;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Chats;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Webhooks;

/// <summary>The body of <c>POST</c> and <c>PATCH /v2/webhooks</c> (PATCH: what is absent stays).</summary>
public sealed record WebhookRequest(string? Url, string[]? Types, string? Description, bool? Enabled);

/// <summary>A webhook as the admin API shows it; <c>types</c> empty means every type.</summary>
public sealed record WebhookResource(
    Guid Id,
    string Url,
    string[] Types,
    string? Description,
    bool Enabled,
    string? DisabledReason,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset CreatedAt,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset UpdatedAt,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset? FailingSince,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset? PreviousSecretExpiresAt,
    int RetryingEvents)
{
    public static WebhookResource From(Webhook webhook) => new(
        webhook.Id, webhook.Settings.Url, webhook.Settings.Types, webhook.Settings.Description, webhook.Settings.Enabled,
        webhook.DisabledReason, webhook.CreatedAt, webhook.UpdatedAt, webhook.FailingSince, webhook.PreviousSecretExpiresAt, webhook.RetryingEvents);
}

/// <summary>The answer of a creation or rotation: the only time the secret is shown.</summary>
public sealed record WebhookWithSecret(WebhookResource Webhook, string Secret);

public sealed record WebhookList(IReadOnlyList<WebhookResource> Webhooks);

public sealed record DeliveryResource(
    Guid EventId,
    string EventType,
    Guid? ChatId,
    long? ChatSeq,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset AttemptedAt,
    int Attempt,
    string Status,
    int? StatusCode,
    int LatencyMs,
    string? Error,
    [property: JsonConverter(typeof(UtcMillisecondsConverter))] DateTimeOffset? NextAttemptAt)
{
    public static DeliveryResource From(DeliveryAttempt a) =>
        new(a.EventId, a.EventType, a.ChatId, a.ChatSeq, a.AttemptedAt, a.Attempt, a.Status, a.StatusCode, a.LatencyMs, a.Error, a.NextAttemptAt);
}

public sealed record DeliveryList(IReadOnlyList<DeliveryResource> Deliveries);

/// <summary>
/// <c>/v2/webhooks</c>, for admins: register, list, change, delete, rotate the secret, send a test,
/// list deliveries and send one again. Bad input is a <c>400</c> naming the field, nothing stored.
/// </summary>
public static class WebhooksApi
{
    public const int MaxUrlLength = 2048;
    public const int MaxDescriptionLength = 500;

    public static RouteGroupBuilder MapWebhooksApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapV2Group("/v2/webhooks", "Webhooks (v2)", AuthExtensions.AdminPolicy)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("", Create).WithName("CreateWebhook")
            .WithSummary("Registers a webhook; the answer holds its signing secret, shown this once.");
        group.MapGet("", List).WithName("ListWebhooks").WithSummary("Every webhook.");
        group.MapGet("/{webhookId}", Get).WithName("GetWebhook");
        group.MapPatch("/{webhookId}", Update).WithName("UpdateWebhook")
            .WithSummary("Changes what the body names; enabled: true delivers again after a disable.");
        group.MapDelete("/{webhookId}", Delete).WithName("DeleteWebhook");
        group.MapPost("/{webhookId}/rotate-secret", Rotate).WithName("RotateWebhookSecret")
            .WithSummary("A new signing secret; deliveries carry the previous one's signature too for Webhooks:RotationOverlap.");
        group.MapPost("/{webhookId}/test", Test).WithName("TestWebhook").WithSummary("Sends a webhook.test event now.");
        group.MapGet("/{webhookId}/deliveries", Deliveries).WithName("ListWebhookDeliveries")
            .WithSummary("The recent delivery attempts, newest first; status: delivered, failed or dead.");
        group.MapPost("/{webhookId}/deliveries/{eventId}/redeliver", Redeliver).WithName("RedeliverWebhookEvent")
            .WithSummary("Sends a stored event to the webhook again, now.");
        return group;
    }

    private static async Task<Results<Created<WebhookWithSecret>, ValidationProblem>> Create(
        WebhookRequest? body, IGrainFactory grains, WebhookSecrets secrets, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var settings = await SettingsAsync(errors, body ?? new WebhookRequest(null, null, null, null), current: null, options.Value, cancellationToken);
        if (settings is null)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request has invalid fields.");
        }
        var (secret, protectedSecret) = secrets.New();
        var id = Guid.CreateVersion7();
        var webhook = await grains.GetGrain<IWebhookGrain>(id).Create(settings, protectedSecret);
        return TypedResults.Created($"/v2/webhooks/{id}", new WebhookWithSecret(WebhookResource.From(webhook), secret));
    }

    private static async Task<Ok<WebhookList>> List(IGrainFactory grains)
    {
        var ids = await grains.GetGrain<IWebhookRegistryGrain>(0).List();
        var webhooks = await Task.WhenAll(ids.Select(id => grains.GetGrain<IWebhookGrain>(id).Find()));
        return TypedResults.Ok(new WebhookList([.. webhooks.OfType<Webhook>().OrderBy(w => w.CreatedAt).Select(WebhookResource.From)]));
    }

    private static async Task<Results<Ok<WebhookResource>, ProblemHttpResult>> Get(Guid webhookId, IGrainFactory grains) =>
        await grains.GetGrain<IWebhookGrain>(webhookId).Find() is { } webhook ? TypedResults.Ok(WebhookResource.From(webhook)) : NotFound();

    private static async Task<Results<Ok<WebhookResource>, ValidationProblem, ProblemHttpResult>> Update(
        Guid webhookId, WebhookRequest? body, IGrainFactory grains, IOptions<WebhookOptions> options, CancellationToken cancellationToken)
    {
        var grain = grains.GetGrain<IWebhookGrain>(webhookId);
        if (await grain.Find() is not { } current)
        {
            return NotFound();
        }
        var errors = new FieldErrors();
        var settings = await SettingsAsync(errors, body ?? new WebhookRequest(null, null, null, null), current.Settings, options.Value, cancellationToken);
        if (settings is null)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request has invalid fields.");
        }
        return await grain.Update(settings) is { } updated ? TypedResults.Ok(WebhookResource.From(updated)) : NotFound();
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid webhookId, IGrainFactory grains) =>
        await grains.GetGrain<IWebhookGrain>(webhookId).Delete() ? TypedResults.NoContent() : NotFound();

    private static async Task<Results<Ok<WebhookWithSecret>, ProblemHttpResult>> Rotate(
        Guid webhookId, IGrainFactory grains, WebhookSecrets secrets, IOptions<WebhookOptions> options, TimeProvider clock)
    {
        var (secret, protectedSecret) = secrets.New();
        return await grains.GetGrain<IWebhookGrain>(webhookId).RotateSecret(protectedSecret, clock.GetUtcNow() + options.Value.RotationOverlap) is { } rotated
            ? TypedResults.Ok(new WebhookWithSecret(WebhookResource.From(rotated), secret))
            : NotFound();
    }

    private static async Task<Results<Ok<DeliveryResource>, ProblemHttpResult>> Test(Guid webhookId, IGrainFactory grains) =>
        await grains.GetGrain<IWebhookGrain>(webhookId).SendTest() is { } attempt ? TypedResults.Ok(DeliveryResource.From(attempt)) : NotFound();

    private static async Task<Results<Ok<DeliveryList>, ValidationProblem, ProblemHttpResult>> Deliveries(Guid webhookId, string? status, IGrainFactory grains)
    {
        if (status is not null && !DeliveryStatus.All.Contains(status, StringComparer.Ordinal))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["status"] = [$"'status' must be one of: {string.Join(", ", DeliveryStatus.All)}."] },
                title: "The request has invalid fields.");
        }
        return await grains.GetGrain<IWebhookGrain>(webhookId).Deliveries(status) is { } attempts
            ? TypedResults.Ok(new DeliveryList([.. attempts.Select(DeliveryResource.From)]))
            : NotFound();
    }

    private static async Task<Results<Ok<DeliveryResource>, ProblemHttpResult>> Redeliver(Guid webhookId, Guid eventId, IGrainFactory grains) =>
        await grains.GetGrain<IWebhookGrain>(webhookId).Redeliver(eventId) is { } attempt
            ? TypedResults.Ok(DeliveryResource.From(attempt))
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such webhook, or no such event kept.");

    private static ProblemHttpResult NotFound() => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such webhook.");

    /// <summary>The settings the request makes of <paramref name="current"/> (null: a creation), or null with the errors.</summary>
    private static async Task<WebhookSettings?> SettingsAsync(
        FieldErrors errors, WebhookRequest request, WebhookSettings? current, WebhookOptions options, CancellationToken cancellationToken)
    {
        var url = current?.Url;
        if (request.Url is not null || current is null)
        {
            url = await UrlAsync(errors, request.Url, options, cancellationToken);
        }
        var types = current?.Types ?? [];
        if (request.Types is not null)
        {
            var unknown = request.Types.Where(t => !EventTypes.All.Contains(t, StringComparer.Ordinal)).ToList();
            if (unknown.Count > 0)
            {
                errors.Add("types", $"'types' may name: {string.Join(", ", EventTypes.All)} (an empty list: every type).");
            }
            types = [.. request.Types.Distinct(StringComparer.Ordinal)];
        }
        var description = current?.Description;
        if (request.Description is not null)
        {
            description = errors.Text("description", request.Description, MaxDescriptionLength);
        }
        var enabled = request.Enabled ?? current?.Enabled ?? true;
        return errors.IsEmpty ? new WebhookSettings(url!, types, description, enabled) : null;
    }

    private static async Task<string?> UrlAsync(FieldErrors errors, string? value, WebhookOptions options, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add("url", "'url' is required.");
            return null;
        }
        if (value.Length > MaxUrlLength || !Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || uri.UserInfo.Length > 0 || uri.Host.Length == 0)
        {
            errors.Add("url", $"'url' must be an absolute https URL without credentials, at most {MaxUrlLength} characters.");
            return null;
        }
        if (uri.Scheme == Uri.UriSchemeHttp && !options.AllowHttp)
        {
            errors.Add("url", "'url' must use https (Webhooks:AllowHttp is off).");
            return null;
        }
        var (_, refusal) = await WebhookAddresses.ResolveAsync(uri.IdnHost, options.AllowPrivateNetworks, cancellationToken);
        if (refusal is not null)
        {
            errors.Add("url", $"'url' is refused: {refusal}.");
            return null;
        }
        return uri.AbsoluteUri;
    }
}
