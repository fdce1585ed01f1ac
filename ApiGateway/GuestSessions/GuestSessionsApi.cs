using Orleans;
using ChatGrains.ApiGateway.Captcha;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ChatGrains.ApiGateway.GuestSessions;

/// <summary><c>POST /api/v1/chat/guest/session</c>: guest sessions (spec 000), public and rate limited.</summary>
public static class GuestSessionsApi
{
    public static RouteGroupBuilder MapGuestSessionsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1/chat/guest")
            .WithTags("Guest sessions (v1)")
            .WithErrorFormat(EnvelopeFormat.Instance)
            .RequireActiveSilo()
            .WithMetadata(new RateLimitedPerClient("guest-session"));

        group.MapPost("/session", CreateSession)
            .WithName("CreateGuestSession")
            .WithSummary("Creates a guest chat session, or returns the stored one for a session_id already used.")
            .Produces<Envelope<object>>(StatusCodes.Status400BadRequest)
            .Produces<Envelope<object>>(StatusCodes.Status413PayloadTooLarge)
            .Produces<Envelope<object>>(StatusCodes.Status415UnsupportedMediaType)
            .Produces<Envelope<object>>(StatusCodes.Status429TooManyRequests)
            .Produces<Envelope<object>>(StatusCodes.Status500InternalServerError)
            .Produces<Envelope<object>>(StatusCodes.Status503ServiceUnavailable);
        return group;
    }

    private static async Task<Results<Created<Envelope<GuestSessionData>>, Ok<Envelope<GuestSessionData>>, JsonHttpResult<Envelope<object>>>> CreateSession(
        GuestSessionRequest request,
        HttpContext http,
        IGrainFactory grains,
        TimeProvider clock,
        CaptchaCheck captcha)
    {
        var errors = new FieldErrors();
        var captchaRequired = captcha.IsRequiredFor(CaptchaEndpoints.GuestSession);
        if (captchaRequired && string.IsNullOrWhiteSpace(request.CaptchaToken))
        {
            errors.Add("captcha_token", "'captcha_token' is required: the captcha widget's response token.");
        }
        if (request.ToCommand(errors) is not var (sessionKey, command))
        {
            return EnvelopeFormat.Error(http, StatusCodes.Status400BadRequest, "The request has invalid fields.", errors.ToDictionary());
        }
        if (captchaRequired && !await captcha.PassesAsync(request.CaptchaToken!, http))
        {
            return EnvelopeFormat.Error(http, StatusCodes.Status400BadRequest, "The request has invalid fields.",
                new Dictionary<string, string[]>(StringComparer.Ordinal) { ["captcha_token"] = ["The captcha was not solved, has expired or was used before; solve it again."] });
        }

        var opening = await grains.GetGrain<IGuestSessionGrain>(sessionKey).Open(command);
        var data = GuestSessionData.From(opening);
        return opening.Created
            ? TypedResults.Created((string?)null, Envelopes.Ok(http, clock, "Session created successfully", data))
            : TypedResults.Ok(Envelopes.Ok(http, clock, "Session already exists", data));
    }
}
