using System.Buffers;
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
        PostAsync(target, envelopes.From(stored), cancellationToken);

    public async Task<(Guid EventId, DeliveryResult Result)> SendTestAsync(WebhookTarget target, CancellationToken cancellationToken)
    {
        var envelope = new EventEnvelope(Guid.NewGuid(), TestEventType, clock.GetUtcNow(), null, null, new WebhookTestData(target.WebhookId));
        return (envelope.Id, await PostAsync(target, envelope, cancellationToken));
    }

    // The exchange's continuations run on the thread pool (ConfigureAwait(false)): the webhook
    // grain that awaits the result need not schedule each step of every delivery on its turn.
    private async Task<DeliveryResult> PostAsync(WebhookTarget target, EventEnvelope envelope, CancellationToken cancellationToken)
    {
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var (signed, bodyStart) = Signed(envelope, timestamp);
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ReadOnlyMemoryContent(signed.WrittenMemory[bodyStart..]) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", envelope.Id.ToString());
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", Signatures(target, signed.WrittenSpan));

        var started = Stopwatch.GetTimestamp();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            using var response = await clients.CreateClient(ClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            await DrainAsync(response, timeout.Token).ConfigureAwait(false);
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

    /// <summary>
    /// What is signed, <c>{id}.{timestamp}.{body}</c>, with the body (the envelope's JSON) written
    /// right after its prefix: one buffer, hashed where it lies and sent from <c>bodyStart</c>.
    /// </summary>
    private static (ArrayBufferWriter<byte> Signed, int BodyStart) Signed(EventEnvelope envelope, string timestamp)
    {
        var signed = new ArrayBufferWriter<byte>(2048);
        var bodyStart = Encoding.UTF8.GetBytes($"{envelope.Id}.{timestamp}.", signed.GetSpan(64));
        signed.Advance(bodyStart);
        using (var json = new Utf8JsonWriter(signed))
        {
            JsonSerializer.Serialize(json, envelope, ApiJson.Wire.EventEnvelope);
        }
        return (signed, bodyStart);
    }

    private string Signatures(WebhookTarget target, ReadOnlySpan<byte> signed)
    {
        var signature = Signature(secrets.KeyOf(target.ProtectedSecret), signed);
        return target.PreviousProtectedSecret is { } previous ? $"{signature} {Signature(secrets.KeyOf(previous), signed)}" : signature;
    }

    private static string Signature(byte[] key, ReadOnlySpan<byte> signed) => "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));

    /// <summary>
    /// Reads (and drops) at most 64 KB of the answer, so a huge or endless body costs nothing more.
    /// The status decides the delivery: a body that breaks off (the connection closed or reset
    /// midway) changes nothing.
    /// </summary>
    private static async Task DrainAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            for (var read = 0; read < MaxResponseBytes;)
            {
                var n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return;
                }
                read += n;
            }
        }
        catch (IOException)
        {
            // Broken off: what was read is all there is.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
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
