using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatGrains.Tests.Webhooks;

/// <summary>
/// Deliveries yield to the node's writes: while it serves <c>Webhooks:YieldAtWritesInFlight</c>
/// writes at once, a webhook sends nothing new (one page per <c>Webhooks:MaxYield</c> excepted),
/// and what waited goes as soon as the load falls.
/// </summary>
public sealed class WebhookYieldTests
{
    /// <summary>The node's write load as the test sets it.</summary>
    private sealed class SetLoad : IApiLoad
    {
        public int WritesInFlight { get; set; }
    }

    private static Task<TestNode> StartAsync(SetLoad load, TimeSpan maxYield) => TestNode.StartOnSqliteAsync(new Dictionary<string, string?>
    {
        ["Webhooks:AllowHttp"] = "true",
        ["Webhooks:AllowPrivateNetworks"] = "true",
        ["Webhooks:PollInterval"] = "00:00:00.100",
        ["Webhooks:YieldAtWritesInFlight"] = "16",
        ["Webhooks:MaxYield"] = maxYield.ToString(),
    }, builder => builder.Services.AddSingleton<IApiLoad>(load));

    private static async Task SubscribeAsync(TestNode node, WebhookReceiver receiver)
    {
        using var admin = node.ClientFor(Roles.Admin);
        using var response = await admin.PostAsJsonAsync(new Uri("/v2/webhooks", UriKind.Relative),
            new { url = receiver.Url.ToString(), types = new[] { EventTypes.ChatCreated } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static async Task<Guid> CreateChatAsync(TestNode node)
    {
        var chatId = Guid.NewGuid();
        using var commercial = node.ClientFor(Roles.Commercial);
        using var response = await commercial.PutChatAsync(chatId, ChatRequests.MinimalBody(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return chatId;
    }

    [Fact]
    public async Task WhileTheNodeIsBusyWithWritesNothingIsSentThenWhatWaitedGoesWhenTheLoadFalls()
    {
        var load = new SetLoad { WritesInFlight = 16 };
        await using var node = await StartAsync(load, maxYield: TimeSpan.FromHours(1));
        await using var receiver = await WebhookReceiver.StartAsync();
        await SubscribeAsync(node, receiver);

        var chatId = await CreateChatAsync(node);
        // Fifteen poll intervals: a webhook that did not wait would have sent it in the first one or two.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Empty(receiver.Received);

        load.WritesInFlight = 15;
        var received = await receiver.WaitForAsync(r => r.Any(d => d.ChatId == chatId));
        Assert.Single(received, d => d.ChatId == chatId);
    }

    [Fact]
    public async Task HoweverLongTheLoadLastsAPageGoesEveryMaxYield()
    {
        var load = new SetLoad { WritesInFlight = 1000 };
        var maxYield = TimeSpan.FromSeconds(1);
        await using var node = await StartAsync(load, maxYield);
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscribing = DateTimeOffset.UtcNow;
        await SubscribeAsync(node, receiver);

        var chats = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            chats.Add(await CreateChatAsync(node));
        }

        var received = await receiver.WaitForAsync(r => chats.All(c => r.Any(d => d.ChatId == c)));
        Assert.All(chats, c => Assert.Single(received, d => d.ChatId == c));
        // The load never fell: the webhook's first round yielded, and only MaxYield later did a page go.
        var firstPageAfter = received.Min(d => d.At) - subscribing;
        Assert.True(firstPageAfter >= maxYield, $"the first delivery came {firstPageAfter.TotalMilliseconds:F0} ms after subscribing, before MaxYield");
    }
}
