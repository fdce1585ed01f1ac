using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ChatGrains.ApiGateway.Events;
using ChatGrains.ApiGateway.Http;
using ChatGrains.Grains;
using Microsoft.Extensions.Options;

namespace ChatGrains.ApiGateway.Webhooks;

/// <summary>
/// Sends events to webhooks, as the Standard Webhooks scheme says: the envelope as the body,
/// <c>webhook-id</c> (the event's id, the same on every retry), <c>webhook-timestamp</c> (Unix
/// seconds) and <c>webhook-signature</c>: <c>v1,</c> and the base64 HMAC-SHA256 of
/// <c>{id}.{timestamp}.{body}</c> under the secret's key, one per secret during a rotation's overlap.
/// No redirect is followed, the receiver's body is read to 64 KB at most and never kept, and every
/// connection goes through <see cref="ConnectAsync"/>, which refuses internal addresses first.
/// </summary>
public sealed class WebhookTransport(
    IHttpClientFactory clients, EventEnvelopes envelopes, WebhookSecrets secrets, IOptions<WebhookOptions> options, TimeProvider clock) : IWebhookTransport
{
    public const string ClientName = "webhooks";

    public const string TestEventType = "webhook.test";

    private const int MaxResponseBytes = 64 * 1024;

    public Task<DeliveryResult> SendAsync(WebhookTarget target, StoredEvent stored, CancellationToken cancellationToken) =>
        PostAsync(target, stored.Id, JsonSerializer.SerializeToUtf8Bytes(envelopes.From(stored), ApiJson.Default.EventEnvelope), cancellationToken);

    public async Task<(Guid EventId, DeliveryResult Result)> SendTestAsync(WebhookTarget target, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid();
        var data = JsonSerializer.SerializeToElement(new WebhookTestData(target.WebhookId), ApiJson.Default.WebhookTestData);
        var envelope = new EventEnvelope(id, TestEventType, clock.GetUtcNow(), null, null, data);
        return (id, await PostAsync(target, id, JsonSerializer.SerializeToUtf8Bytes(envelope, ApiJson.Default.EventEnvelope), cancellationToken));
    }

    private async Task<DeliveryResult> PostAsync(WebhookTarget target, Guid id, byte[] body, CancellationToken cancellationToken)
    {
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", id.ToString());
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", Signatures(target, id, timestamp, body));

        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            await DrainAsync(response, timeout.Token);
            return new DeliveryResult((int)response.StatusCode, Stopwatch.GetElapsedTime(started), null, RetryAfter(response));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DeliveryResult(null, Stopwatch.GetElapsedTime(started), $"No answer within {options.Value.Timeout}", null);
        }
        catch (HttpRequestException exception)
        {
            return new DeliveryResult(null, Stopwatch.GetElapsedTime(started), Describe(exception), null);
        }
    }

    private string Signatures(WebhookTarget target, Guid id, string timestamp, byte[] body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var keys = target.PreviousProtectedSecret is { } previous ? [target.ProtectedSecret, previous] : new[] { target.ProtectedSecret };
        return string.Join(' ', keys.Select(key =>
        {
            using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secrets.KeyOf(key));
            hmac.AppendData(prefix);
            hmac.AppendData(body);
            return "v1," + Convert.ToBase64String(hmac.GetHashAndReset());
        }));
    }

    /// <summary>Reads (and drops) at most 64 KB of the answer, so a huge or endless body costs nothing more.</summary>
    private static async Task DrainAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[8192];
        for (var read = 0; read < MaxResponseBytes;)
        {
            var n = await stream.ReadAsync(buffer, cancellationToken);
            if (n == 0)
            {
                return;
            }
            read += n;
        }
    }

    /// <summary>A 429's or 503's <c>Retry-After</c> (seconds or a date).</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) || response.Headers.RetryAfter is not { } header)
        {
            return null;
        }
        var delay = header.Delta ?? (header.Date is { } date ? date - clock.GetUtcNow() : null);
        return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
    }

    private static string Describe(HttpRequestException exception) => exception.InnerException switch
    {
        WebhookAddressRefusedException refused => refused.Message,
        _ => exception.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "The host name does not resolve",
            HttpRequestError.ConnectionError => "Could not connect",
            HttpRequestError.SecureConnectionError => "TLS handshake failed",
            HttpRequestError.ResponseEnded or HttpRequestError.InvalidResponse => "The receiver's answer was not valid HTTP",
            _ => $"The request failed ({exception.HttpRequestError})",
        },
    };

    /// <summary>
    /// Every connection of the webhooks' client: resolves the host and refuses an internal address
    /// (unless allowed) before any socket is opened, then connects to the addresses checked, so a
    /// name that resolves differently a moment later cannot slip through.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken cancellationToken)
    {
        var (addresses, refusal) = await WebhookAddresses.ResolveAsync(context.DnsEndPoint.Host, allowPrivate, cancellationToken);
        if (refusal is not null)
        {
            throw new WebhookAddressRefusedException($"Refused: {refusal}");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary><c>data</c> of a <c>webhook.test</c> event.</summary>
public sealed record WebhookTestData(Guid WebhookId);

/// <summary>A connection refused before it was attempted: the address is internal.</summary>
public sealed class WebhookAddressRefusedException(string message) : Exception(message);
