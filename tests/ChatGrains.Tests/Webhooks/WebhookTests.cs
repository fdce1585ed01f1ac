using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatGrains.Tests.Webhooks;

/// <summary>A node on SQLite whose webhooks may call loopback over http, with retries in fractions of a second.</summary>
public sealed class WebhookNodeFixture : IAsyncLifetime
{
    public static readonly TimeSpan FirstRetryAfter = TimeSpan.FromMilliseconds(300);
    public static readonly TimeSpan RetryFor = TimeSpan.FromSeconds(4);

    public TestNode Node { get; private set; } = null!;

    /// <summary>Everything the node logs, down to Trace, HTTP clients included.</summary>
    public LogCapture Logs { get; } = new();

    public async Task InitializeAsync() => Node = await TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Trace",
        ["Logging:LogLevel:Orleans"] = "Warning",
        ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Trace",
        [TestNode.MetricsOn.Key] = TestNode.MetricsOn.Value,
        ["Webhooks:AllowHttp"] = "true",
        ["Webhooks:AllowPrivateNetworks"] = "true",
        ["Webhooks:PollInterval"] = "00:00:00.100",
        ["Webhooks:Timeout"] = "00:00:02",
        ["Webhooks:FirstRetryAfter"] = FirstRetryAfter.ToString(),
        ["Webhooks:MaxRetryInterval"] = "00:00:01.500",
        ["Webhooks:RetryFor"] = RetryFor.ToString(),
        ["Webhooks:DisableAfter"] = "00:00:06",
        ["Webhooks:RotationOverlap"] = "00:00:03",
    }, builder => builder.Logging.AddProvider(Logs));

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>Webhooks against a real receiver on loopback: signatures, order, retries, dead letters, rotation, disabling.</summary>
public sealed class WebhookTests(WebhookNodeFixture fixture) : IClassFixture<WebhookNodeFixture>
{
    private TestNode Node => fixture.Node;

    private Task<(Guid Id, string Secret, JsonObject Webhook)> CreateAsync(WebhookReceiver receiver, params string[] types) =>
        CreateAsync(receiver.Url, types);

    private async Task<(Guid Id, string Secret, JsonObject Webhook)> CreateAsync(Uri url, params string[] types)
    {
        using var admin = Node.ClientFor(Roles.Admin);
        using var response = await admin.PostAsJsonAsync(new Uri("/v2/webhooks", UriKind.Relative),
            new { url = url.ToString(), types, description = "test receiver" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var webhook = body["webhook"]!.AsObject();
        Assert.Equal($"/v2/webhooks/{webhook["id"]}", response.Headers.Location?.ToString());
        return ((Guid)webhook["id"]!, (string)body["secret"]!, webhook);
    }

    private async Task DeleteAsync(Guid webhookId)
    {
        using var admin = Node.ClientFor(Roles.Admin);
        using var response = await admin.DeleteAsync(new Uri($"/v2/webhooks/{webhookId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private async Task<Guid> CreateChatAsync(Guid? id = null)
    {
        var chatId = id ?? Guid.NewGuid();
        using var commercial = Node.ClientFor(Roles.Commercial);
        using var response = await commercial.PutChatAsync(chatId, ChatRequests.FullBody(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return chatId;
    }

    private async Task CloseChatAsync(Guid chatId)
    {
        using var admin = Node.ClientFor(Roles.Admin);
        using var response = await admin.PostAsync(new Uri($"/v2/chats/{chatId}/close", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<JsonObject> GetJsonAsync(string path)
    {
        using var admin = Node.ClientFor(Roles.Admin);
        using var response = await admin.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task ADeliveryIsTheFeedsEnvelopeSignedWithExactlyTheSecretShownAtCreation()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (webhookId, secret, webhook) = await CreateAsync(receiver, EventTypes.ChatCreated);
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(secret["whsec_".Length..]).Length);
        Assert.Null(webhook["secret"]);
        Assert.DoesNotContain(secret, webhook.ToJsonString(), StringComparison.Ordinal);

        var chatId = await CreateChatAsync();
        var received = await receiver.WaitForAsync(r => r.Any(d => d.ChatId == chatId));

        var delivery = Assert.Single(received, d => d.ChatId == chatId);
        Assert.True(delivery.IsSignedBy(secret), $"signature {delivery.Signature}");
        Assert.Single(delivery.Signature.Split(' '));
        Assert.InRange(long.Parse(delivery.Timestamp, System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        var feed = await GetJsonAsync("/v2/events?types=chat.created&limit=500");
        var envelope = feed["events"]!.AsArray().Single(e => (Guid?)e!["chatId"] == chatId)!;
        Assert.True(JsonNode.DeepEquals(envelope, delivery.Envelope), $"feed {envelope}\nwebhook {delivery.Body}");
        Assert.Equal((string)envelope["id"]!, delivery.Id);
        var list = await GetJsonAsync("/v2/webhooks");
        Assert.Contains(list["webhooks"]!.AsArray(), w => (Guid?)w!["id"] == webhookId);
        Assert.DoesNotContain(secret, list.ToJsonString(), StringComparison.Ordinal);
        await DeleteAsync(webhookId);
    }

    [Fact]
    public async Task EachChatsEventsArriveInChatSeqOrderEvenWhenOneOfThemNeedsRetries()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (webhookId, _, _) = await CreateAsync(receiver, EventTypes.ChatCreated, EventTypes.ChatClosed);
        var chats = Enumerable.Range(0, 6).Select(_ => Guid.NewGuid()).ToList();
        // The first chat's creation fails twice before it is taken: its close must still come after it.
        var failures = 0;
        receiver.Answer = d => d.ChatId == chats[0] && d.Type == EventTypes.ChatCreated && Interlocked.Increment(ref failures) <= 2
            ? (500, null) : (200, null);
        foreach (var chatId in chats)
        {
            await CreateChatAsync(chatId);
        }
        foreach (var chatId in chats)
        {
            await CloseChatAsync(chatId);
        }

        var received = await receiver.WaitForAsync(r => chats.All(c => r.Count(d => d.ChatId == c && d.Type == EventTypes.ChatClosed) == 1));

        foreach (var chatId in chats)
        {
            var delivered = received.Where(d => d.ChatId == chatId).Select(d => (d.Type, Seq: (long)d.Envelope["chatSeq"]!)).ToList();
            Assert.Equal((EventTypes.ChatClosed, 2L), delivered[^1]);
            Assert.All(delivered[..^1], d => Assert.Equal((EventTypes.ChatCreated, 1L), d));
        }
        await DeleteAsync(webhookId);
    }

    [Fact]
    public async Task A2xxWhoseBodyBreaksOffIsDeliveredAndNotSentAgain()
    {
        await using var receiver = new BrokenAnswerReceiver();
        var (webhookId, _, _) = await CreateAsync(receiver.Url, EventTypes.ChatCreated);
        await CreateChatAsync();
        await CreateChatAsync();

        // Both attempts listed as delivered: an answer breaking off after its status failed the
        // whole round, which sent the same events again and again and listed nothing.
        var deadline = DateTime.UtcNow + WebhookReceiver.Patience;
        JsonArray attempts;
        do
        {
            attempts = (await GetJsonAsync($"/v2/webhooks/{webhookId}/deliveries"))["deliveries"]!.AsArray();
        }
        while (attempts.Count(a => (string?)a!["status"] == "delivered") < 2 && DateTime.UtcNow < deadline && await Delay());

        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.Equal(("delivered", 200), ((string)a!["status"]!, (int)a["statusCode"]!)));
        Assert.Equal(attempts.Select(a => (string)a!["eventId"]!).Order(), receiver.ReceivedIds.Order());
        await DeleteAsync(webhookId);

        static async Task<bool> Delay()
        {
            await Task.Delay(50);
            return true;
        }
    }

    [Fact]
    public async Task RetriesKeepTheEventIdBackOffAndHonourRetryAfter()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (webhookId, _, _) = await CreateAsync(receiver, EventTypes.ChatCreated);
        var chatId = Guid.NewGuid();
        var attempts = 0;
        receiver.Answer = d => d.ChatId != chatId ? (200, null) : Interlocked.Increment(ref attempts) switch
        {
            1 => (500, null),
            2 => (503, null),
            3 => (429, "1"),
            _ => (200, null),
        };
        await CreateChatAsync(chatId);

        var received = (await receiver.WaitForAsync(r => r.Count(d => d.ChatId == chatId) >= 4)).Where(d => d.ChatId == chatId).ToList();

        Assert.Equal(4, received.Count);
        Assert.Single(received.Select(d => d.Id).Distinct());
        var gaps = received.Zip(received.Skip(1), (a, b) => b.At - a.At).ToList();
        // 300 ms, then doubled (each ±20 %), then the 1 s the receiver asked for.
        Assert.True(gaps[0] >= WebhookNodeFixture.FirstRetryAfter * 0.8, $"gaps {string.Join(", ", gaps)}");
        Assert.True(gaps[1] >= WebhookNodeFixture.FirstRetryAfter * 2 * 0.8, $"gaps {string.Join(", ", gaps)}");
        Assert.True(gaps[2] >= TimeSpan.FromSeconds(1) - TimeSpan.FromMilliseconds(50), $"gaps {string.Join(", ", gaps)}");
        var deliveries = await GetJsonAsync($"/v2/webhooks/{webhookId}/deliveries");
        var ofChat = deliveries["deliveries"]!.AsArray().Where(d => (Guid?)d!["chatId"] == chatId).ToList();
        Assert.Equal(["delivered", "failed", "failed", "failed"], ofChat.Select(d => (string)d!["status"]!));
        Assert.Equal([429, 503, 500], ofChat.Skip(1).Select(d => (int)d!["statusCode"]!));

        var metrics = await Node.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("chatgrains_webhooks_deliveries_total{", StringComparison.Ordinal)
            && l.Contains("outcome=\"failed\"", StringComparison.Ordinal));
        Assert.Contains("chatgrains_webhooks_delivery_lag_seconds_bucket", metrics, StringComparison.Ordinal);
        Assert.Contains("chatgrains_webhooks_backlog", metrics, StringComparison.Ordinal);
        await DeleteAsync(webhookId);
    }

    [Fact]
    public async Task NeitherTheReceiversUrlNorItsSecretIsLogged()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        // A URL may carry the receiver's own secret, in its path (as Slack's do) or its query.
        const string pathToken = "path-token-5d2e8b", queryToken = "query-token-7f3a9c";
        using var admin = Node.ClientFor(Roles.Admin);
        using var created = await admin.PostAsJsonAsync(new Uri("/v2/webhooks", UriKind.Relative),
            new { url = $"{receiver.Url}/services/{pathToken}?key={queryToken}", types = new[] { EventTypes.ChatCreated } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var secret = (string)body["secret"]!;
        var chatId = await CreateChatAsync();

        await receiver.WaitForAsync(r => r.Any(d => d.ChatId == chatId));
        Assert.NotEmpty(fixture.Logs.Lines);
        Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(pathToken, StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(queryToken, StringComparison.Ordinal));
        Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(secret["whsec_".Length..], StringComparison.Ordinal));
        await DeleteAsync((Guid)body["webhook"]!["id"]!);
    }

    [Fact]
    public async Task AFinal4xxIsDeadAtOnceTheChatMovesOnAndRedeliverSendsItAgain()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (webhookId, _, _) = await CreateAsync(receiver, EventTypes.ChatCreated, EventTypes.ChatClosed);
        var refuse = true;
        receiver.Answer = d => refuse && d.Type == EventTypes.ChatCreated ? (410, null) : (200, null);
        var chatId = await CreateChatAsync();
        await CloseChatAsync(chatId);

        var received = await receiver.WaitForAsync(r => r.Any(d => d.ChatId == chatId && d.Type == EventTypes.ChatClosed));
        Assert.Equal([EventTypes.ChatCreated, EventTypes.ChatClosed], received.Where(d => d.ChatId == chatId).Select(d => d.Type));
        var dead = await GetJsonAsync($"/v2/webhooks/{webhookId}/deliveries?status=dead");
        var deadCreated = Assert.Single(dead["deliveries"]!.AsArray(), d => (Guid?)d!["chatId"] == chatId)!;
        Assert.Equal(410, (int)deadCreated["statusCode"]!);

        refuse = false;
        using var admin = Node.ClientFor(Roles.Admin);
        using var redelivered = await admin.PostAsync(new Uri($"/v2/webhooks/{webhookId}/deliveries/{deadCreated["eventId"]}/redeliver", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, redelivered.StatusCode);
        Assert.Equal("delivered", (string)(await redelivered.Content.ReadFromJsonAsync<JsonObject>())!["status"]!);
        Assert.Equal(2, receiver.Received.Count(d => d.Id == (string)deadCreated["eventId"]!));
        await DeleteAsync(webhookId);
    }

    [Fact]
    public async Task AnEventFailingForRetryForIsDeadLetteredWhileOtherChatsAreDelivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (webhookId, _, _) = await CreateAsync(receiver, EventTypes.ChatCreated);
        var failing = Guid.NewGuid();
        receiver.Answer = d => d.ChatId == failing ? (500, null) : (200, null);
        await CreateChatAsync(failing);
        var other = await CreateChatAsync();

        await receiver.WaitForAsync(r => r.Any(d => d.ChatId == other));
        var dead = await WaitForDeliveryAsync(webhookId, "dead", failing);

        Assert.Contains("retried for", (string)dead["error"]!, StringComparison.Ordinal);
        // How many retries fit in RetryFor depends on how busy the machine is; that it was retried
        // and declared dead no sooner than RetryFor after its first delivery does not.
        var sent = receiver.Received.Where(d => d.ChatId == failing).ToList();
        Assert.True(sent.Count >= 2, $"sent {sent.Count} times");
        Assert.True((DateTimeOffset)dead["attemptedAt"]! - sent[0].At >= WebhookNodeFixture.RetryFor, (string?)dead["attemptedAt"]);
        await DeleteAsync(webhookId);
    }

    [Fact]
    public async Task ARotatedSecretSignsAlongsideThePreviousOneForTheOverlapThenAlone()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (webhookId, oldSecret, _) = await CreateAsync(receiver, EventTypes.ChatCreated);
        using var admin = Node.ClientFor(Roles.Admin);
        using var rotated = await admin.PostAsync(new Uri($"/v2/webhooks/{webhookId}/rotate-secret", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var body = (await rotated.Content.ReadFromJsonAsync<JsonObject>())!;
        var newSecret = (string)body["secret"]!;
        Assert.NotEqual(oldSecret, newSecret);
        Assert.NotNull(body["webhook"]!["previousSecretExpiresAt"]);

        var during = await CreateChatAsync();
        var overlap = (await receiver.WaitForAsync(r => r.Any(d => d.ChatId == during))).Single(d => d.ChatId == during);
        Assert.Equal(2, overlap.Signature.Split(' ').Length);
        Assert.True(overlap.IsSignedBy(newSecret) && overlap.IsSignedBy(oldSecret), overlap.Signature);

        // After the overlap (3 s), deliveries carry the new signature alone.
        var deadline = DateTime.UtcNow + WebhookReceiver.Patience;
        ReceivedDelivery? alone = null;
        while (alone is null && DateTime.UtcNow < deadline)
        {
            var chatId = await CreateChatAsync();
            var delivery = (await receiver.WaitForAsync(r => r.Any(d => d.ChatId == chatId))).Single(d => d.ChatId == chatId);
            alone = delivery.Signature.Contains(' ', StringComparison.Ordinal) ? null : delivery;
            await Task.Delay(200);
        }
        Assert.NotNull(alone);
        Assert.True(alone.IsSignedBy(newSecret));
        Assert.False(alone.IsSignedBy(oldSecret));
        await DeleteAsync(webhookId);
    }

    [Fact]
    public async Task AWebhookWhoseEveryDeliveryFailsIsDisabledWithTheReasonAndCanBeEnabledAgain()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = _ => (503, null);
        var (webhookId, _, _) = await CreateAsync(receiver, EventTypes.ChatCreated);
        await CreateChatAsync();

        var deadline = DateTime.UtcNow + WebhookReceiver.Patience;
        var webhook = await GetJsonAsync($"/v2/webhooks/{webhookId}");
        while ((bool)webhook["enabled"]! && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            webhook = await GetJsonAsync($"/v2/webhooks/{webhookId}");
        }
        Assert.False((bool)webhook["enabled"]!);
        Assert.Contains("Every delivery failed", (string)webhook["disabledReason"]!, StringComparison.Ordinal);

        receiver.Answer = _ => (200, null);
        using var admin = Node.ClientFor(Roles.Admin);
        using var enabled = await admin.PatchAsync(new Uri($"/v2/webhooks/{webhookId}", UriKind.Relative),
            new StringContent("""{"enabled": true}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        var after = (await enabled.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True((bool)after["enabled"]!);
        Assert.Null(after["disabledReason"]);
        var chatId = await CreateChatAsync();
        Assert.Contains(await receiver.WaitForAsync(r => r.Any(d => d.ChatId == chatId)), d => d.ChatId == chatId);
        await DeleteAsync(webhookId);
    }

    [Fact]
    public async Task TestSendsAWebhookTestEventAndAnswersTheAttempt()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (webhookId, secret, _) = await CreateAsync(receiver);
        using var admin = Node.ClientFor(Roles.Admin);

        using var response = await admin.PostAsync(new Uri($"/v2/webhooks/{webhookId}/test", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var attempt = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(("delivered", 200), ((string)attempt["status"]!, (int)attempt["statusCode"]!));
        var test = Assert.Single(receiver.Received, d => d.Type == "webhook.test");
        Assert.True(test.IsSignedBy(secret));
        Assert.Equal(webhookId, (Guid)test.Envelope["data"]!["webhookId"]!);
        Assert.Equal((string)attempt["eventId"]!, test.Id);
        await DeleteAsync(webhookId);
    }

    [Theory]
    [InlineData("""{"types": ["chat.created"]}""", "url")]
    [InlineData("""{"url": "ftp://127.0.0.1/hook"}""", "url")]
    [InlineData("""{"url": "http://user:pass@127.0.0.1/hook"}""", "url")]
    [InlineData("""{"url": "/relative"}""", "url")]
    [InlineData("""{"url": "http://127.0.0.1/hook", "types": ["chat.deleted"]}""", "types")]
    public async Task ABadRegistrationIsA400NamingTheFieldAndStoresNothing(string body, string field)
    {
        using var admin = Node.ClientFor(Roles.Admin);
        var before = (await GetJsonAsync("/v2/webhooks"))["webhooks"]!.AsArray().Count;

        using var response = await admin.PostAsync(new Uri("/v2/webhooks", UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![field]);
        Assert.Equal(before, (await GetJsonAsync("/v2/webhooks"))["webhooks"]!.AsArray().Count);
    }

    [Fact]
    public async Task ATooLongDescriptionIsA400AndOnlyAdminsManageWebhooks()
    {
        using var admin = Node.ClientFor(Roles.Admin);
        using var tooLong = await admin.PostAsJsonAsync(new Uri("/v2/webhooks", UriKind.Relative),
            new { url = "http://127.0.0.1:9/hook", description = new string('d', 501) });
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);

        using var commercial = Node.ClientFor(Roles.Commercial);
        using var integration = Node.ClientFor(Roles.Integration);
        using (var response = await commercial.GetAsync(new Uri("/v2/webhooks", UriKind.Relative))) { Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode); }
        using (var response = await integration.PostAsJsonAsync(new Uri("/v2/webhooks", UriKind.Relative), new { url = "http://127.0.0.1:9/hook" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        using (var response = await admin.GetAsync(new Uri($"/v2/webhooks/{Guid.NewGuid()}", UriKind.Relative))) { Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); }
        using (var response = await admin.DeleteAsync(new Uri($"/v2/webhooks/{Guid.NewGuid()}", UriKind.Relative))) { Assert.Equal(HttpStatusCode.NotFound, response.StatusCode); }
    }

    [Fact]
    public async Task WithPrivateNetworksAllowedTheTransportConnectsToLoopback()
    {
        // The control of WebhookAddressTests' refusal: the same call, allowed, reaches the listener.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var transport = Node.Services.GetRequiredService<IWebhookTransport>();
            var secret = Node.Services.GetRequiredService<ChatGrains.ApiGateway.Webhooks.WebhookSecrets>().New().Protected;
            var sending = transport.SendTestAsync(new WebhookTarget(Guid.NewGuid(), $"http://localhost:{port}/hook", secret, null), CancellationToken.None);
            using var accepted = await listener.AcceptTcpClientAsync().WaitAsync(WebhookReceiver.Patience);
            Assert.True(accepted.Connected);
            accepted.Close();
            var (_, result) = await sending;
            Assert.Null(result.StatusCode);
        }
        finally
        {
            listener.Stop();
        }
    }

    private async Task<JsonObject> WaitForDeliveryAsync(Guid webhookId, string status, Guid chatId)
    {
        var deadline = DateTime.UtcNow + WebhookReceiver.Patience;
        while (true)
        {
            var deliveries = await GetJsonAsync($"/v2/webhooks/{webhookId}/deliveries?status={status}");
            if (deliveries["deliveries"]!.AsArray().FirstOrDefault(d => (Guid?)d!["chatId"] == chatId) is JsonObject found)
            {
                return found;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no {status} delivery of chat {chatId}");
            await Task.Delay(100);
        }
    }
}
