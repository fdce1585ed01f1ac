using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatGrains.Tests.Webhooks;

/// <summary>One request a receiver got: the Standard Webhooks headers and the body, and when.</summary>
public sealed record ReceivedDelivery(string Id, string Timestamp, string Signature, string Body, DateTimeOffset At)
{
    public JsonObject Envelope => JsonNode.Parse(Body)!.AsObject();

    public string Type => (string)Envelope["type"]!;

    public Guid? ChatId => (Guid?)Envelope["chatId"];

    /// <summary>
    /// Verifies a signature as a receiver following Standard Webhooks does: the key is the base64
    /// after <c>whsec_</c>, the signed content <c>{id}.{timestamp}.{body}</c>.
    /// </summary>
    public bool IsSignedBy(string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{Id}.{Timestamp}.{Body}")));
        return Signature.Split(' ').Any(signature => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature), Encoding.ASCII.GetBytes(expected)));
    }
}

/// <summary>
/// A real HTTP receiver on loopback (Kestrel), recording every delivery and answering as the test
/// says (<see cref="Answer"/>: a status and an optional Retry-After).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedDelivery> _received = new();

    private WebhookReceiver(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>How to answer a delivery (default: 200).</summary>
    public Func<ReceivedDelivery, (int Status, string? RetryAfter)> Answer { get; set; } = _ => (200, null);

    public IReadOnlyList<ReceivedDelivery> Received => [.. _received];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        // Also below /hook: a receiver's URL may carry a secret in its path (as Slack's do).
        app.MapPost("/hook/{**path}", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            var delivery = new ReceivedDelivery(
                http.Request.Headers["webhook-id"].ToString(), http.Request.Headers["webhook-timestamp"].ToString(),
                http.Request.Headers["webhook-signature"].ToString(), await reader.ReadToEndAsync(), DateTimeOffset.UtcNow);
            receiver!._received.Enqueue(delivery);
            var (status, retryAfter) = receiver.Answer(delivery);
            if (retryAfter is not null)
            {
                http.Response.Headers.RetryAfter = retryAfter;
            }
            http.Response.StatusCode = status;
        });
        await app.StartAsync();
        var address = app.Urls.Single();
        receiver = new WebhookReceiver(app, new Uri(new Uri(address), "/hook"));
        return receiver;
    }

    /// <summary>Waits until what arrived satisfies the condition (or the patience ends); answers what arrived.</summary>
    public async Task<IReadOnlyList<ReceivedDelivery>> WaitForAsync(Func<IReadOnlyList<ReceivedDelivery>, bool> condition, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (!condition(Received) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        return Received;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
