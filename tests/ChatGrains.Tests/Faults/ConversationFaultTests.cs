using ChatGrains.Grains;
using System.Net;
using System.Text.Json;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Conversations;
using ChatGrains.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Xunit.Abstractions;

namespace ChatGrains.Tests.Faults;

/// <summary>A node dies mid-conversation: its clients reconnect through the balancer, and nothing acknowledged is lost or doubled.</summary>
[Collection(FaultCollection.Name)]
[Trait("Category", "Faults")]
public sealed class ConversationFaultTests(ITestOutputHelper output)
{
    private const int MessagesEach = 30;

    [Fact]
    public async Task KillingTheNodeOfTheChatAndOfTheVisitorLosesNoAcknowledgedMessage()
    {
        await using var cluster = await BalancedCluster.StartAsync();
        var doomed = cluster.Nodes[1];
        // Created through the doomed node, so the chat grain lives there; the visitor is connected there too.
        await using var conversation = await OpenAsync(cluster, doomed.BaseAddress);
        var (chatId, agent, guest) = (conversation.ChatId, conversation.Agent, conversation.Guest);

        var sending = conversation.SendAllAsync();
        await guest.Acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await doomed.KillAsync();
        var acknowledged = await sending;

        var stored = await conversation.StoredAsync();
        output.WriteLine($"{acknowledged.Count} acknowledged, {stored.Count} stored; visitor reconnects: {guest.Reconnects}, agent reconnects: {agent.Reconnects}");

        AssertEachAcknowledgedStoredOnceInOrder(acknowledged, stored);
        Assert.True(guest.Reconnects >= 1, "the visitor's node was killed, yet it never reconnected");

        // The chat's events: created, accepted, then one message.created per stored message, in
        // message order, numbered without gaps across the node's death.
        var events = (await cluster.Database.EventsAsync()).Where(e => e.ChatId == chatId).OrderBy(e => e.ChatSeq).ToList();
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long?)i), events.Select(e => e.ChatSeq));
        Assert.Equal([EventTypes.ChatCreated, EventTypes.ChatAccepted, .. stored.Select(_ => EventTypes.MessageCreated)], events.Select(e => e.Type));
        Assert.Equal(stored.Select(m => m.GetProperty("id").GetGuid()), events.Skip(2).Select(e => (Guid)e.Data["Id"]!));
    }

    [Fact]
    public async Task CrashingTheDatabaseMidConversationLosesNoAcknowledgedMessageAndStoresNoneTwice()
    {
        await using var cluster = await BalancedCluster.StartAsync();
        await using var conversation = await OpenAsync(cluster, cluster.Address);
        var (agent, guest) = (conversation.Agent, conversation.Guest);

        // Both write while the (durable) database crashes and, three seconds later, comes back:
        // each message is resent with its client id until acknowledged.
        var sending = conversation.SendAllAsync();
        await guest.Acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cluster.Server.CrashAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        await cluster.Server.StartAsync();
        var acknowledged = await sending;

        var stored = await conversation.StoredAsync();
        output.WriteLine($"{acknowledged.Count} acknowledged, {stored.Count} stored; sends answered UNAVAILABLE: {agent.Refusals + guest.Refusals}, reconnects: {agent.Reconnects + guest.Reconnects}");

        // The crash happened mid-conversation: some sends met it.
        Assert.True(agent.Refusals + guest.Refusals + agent.Reconnects + guest.Reconnects > 0, "no send met the outage");
        AssertEachAcknowledgedStoredOnceInOrder(acknowledged, stored);
    }

    /// <summary>
    /// A chat created through <paramref name="via"/> for a new visitor, accepted by a new
    /// commercial connected through the balancer; the visitor connected to <paramref name="via"/>.
    /// </summary>
    private static async Task<OpenConversation> OpenAsync(BalancedCluster cluster, Uri via)
    {
        var (visitor, commercial, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var visitorToken = TestKeys.IssueToken(Roles.Visitor, visitor);
        var commercialToken = TestKeys.IssueToken(Roles.Commercial, commercial);
        await Conversation.SignInAsync(cluster.Address, commercialToken);
        using (var client = cluster.CreateClient(via))
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", visitorToken);
            var body = ChatRequests.MinimalBody(visitor);
            body["availableCommercialIds"] = new System.Text.Json.Nodes.JsonArray(commercial.ToString());
            using var created = await client.PutChatAsync(chatId, body);
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        }
        var agent = new Participant(await HubClient.ConnectAsync(cluster.Address, commercialToken), cluster.Address, commercialToken);
        var guest = new Participant(await HubClient.ConnectAsync(via, visitorToken), cluster.Address, visitorToken);
        await agent.Client.AcceptAsync(chatId);
        return new OpenConversation(cluster, chatId, commercialToken, agent, guest);
    }

    private sealed record OpenConversation(BalancedCluster Cluster, Guid ChatId, string CommercialToken, Participant Agent, Participant Guest) : IAsyncDisposable
    {
        /// <summary>Both sides send <see cref="MessagesEach"/> messages, each until acknowledged; the acknowledged ones.</summary>
        public async Task<List<JsonElement>> SendAllAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            var agentSends = Agent.SendAllAsync(ChatId, "agent", MessagesEach, deadline);
            var guestSends = Guest.SendAllAsync(ChatId, "guest", MessagesEach, deadline);
            return [.. await agentSends, .. await guestSends];
        }

        /// <summary>Every stored message of the chat, read back page by page on a new connection.</summary>
        public async Task<List<JsonElement>> StoredAsync()
        {
            await using var reader = await HubClient.ConnectAsync(Cluster.Address, CommercialToken);
            var stored = new List<JsonElement>();
            for (var page = await reader.JoinAsync(ChatId); ; page = await reader.JoinAsync(ChatId, stored[^1].Seq()))
            {
                stored.AddRange(page.GetProperty("messages").EnumerateArray());
                if (!page.GetProperty("hasMore").GetBoolean())
                {
                    return stored;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Guest.DisposeAsync();
            await Agent.DisposeAsync();
        }
    }

    private static void AssertEachAcknowledgedStoredOnceInOrder(List<JsonElement> acknowledged, List<JsonElement> stored)
    {
        Assert.Equal(2 * MessagesEach, acknowledged.Count);
        Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored.Select(m => m.Seq()));
        Assert.Equal(acknowledged.Select(m => m.GetProperty("id").GetGuid()).Order(), stored.Select(m => m.GetProperty("id").GetGuid()).Order());
        foreach (var ack in acknowledged)
        {
            Assert.Equal(ack.GetRawText(), stored.Single(m => m.GetProperty("id").GetGuid() == ack.GetProperty("id").GetGuid()).GetRawText());
        }
    }

    [Fact]
    public async Task ChatsOfferedWhileTheCommercialsNodeIsDeadAreCreatedAndWaitForItsNextConnection()
    {
        await using var cluster = await BalancedCluster.StartAsync();
        var commercial = Guid.NewGuid();
        var doomed = cluster.Nodes[1];
        // Offered through the doomed node first, so the commercial's grain lives there.
        var chats = new List<Guid> { await CreateChatAsync(cluster, doomed.BaseAddress, commercial) };
        await doomed.KillAsync();

        // Straight to a live node, no balancer retrying: each creation is answered by itself,
        // while the commercial's grain cannot answer until its silo is declared dead.
        chats.AddRange(await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => CreateChatAsync(cluster, cluster.Nodes[0].BaseAddress, commercial))));

        // Each offer is recorded once the grain answers again; bounded, the death being
        // declared within seconds.
        var token = TestKeys.IssueToken(Roles.Commercial, commercial);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var offered = new HashSet<Guid>();
        while (!offered.IsSupersetOf(chats))
        {
            Assert.True(DateTime.UtcNow < deadline, $"offered on connecting: {offered.Count} of {chats.Count} chats");
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            try
            {
                await using var agent = await HubClient.ConnectAsync(cluster.Address, token);
                offered = [.. agent.Drain("chatOffered").Select(offer => offer.ChatId())];
            }
            catch (Exception exception)
            {
                // The commercial's grain is still on the dead silo: its catch-up cannot be read yet.
                output.WriteLine($"connecting: {exception.GetType().Name}");
            }
        }
        Assert.Equal(chats.Order(), offered.Order());
    }

    private static async Task<Guid> CreateChatAsync(BalancedCluster cluster, Uri node, Guid commercial) =>
        (await cluster.CreateChatAsync(node, commercial))["id"]!.GetValue<Guid>();

    /// <summary>
    /// One side of the conversation: sends its messages one after another, each until it is
    /// acknowledged (resending the same client message id, which the chat stores once), and
    /// reconnects through the balancer when its connection is gone.
    /// </summary>
    private sealed class Participant(HubClient client, Uri balancer, string token) : IAsyncDisposable
    {
        public HubClient Client { get; private set; } = client;

        public int Reconnects { get; private set; }

        /// <summary>Sends answered <c>UNAVAILABLE</c> (and then resent).</summary>
        public int Refusals { get; private set; }

        /// <summary>Completes once the first message is acknowledged.</summary>
        public TaskCompletionSource Acknowledged { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<List<JsonElement>> SendAllAsync(Guid chatId, string who, int count, DateTime deadline)
        {
            var acknowledged = new List<JsonElement>();
            for (var i = 1; i <= count; i++)
            {
                var messageId = Guid.NewGuid();
                while (true)
                {
                    Assert.True(DateTime.UtcNow < deadline, $"{who} message {i} was never acknowledged");
                    try
                    {
                        acknowledged.Add(await Client.SendAsync(chatId, $"{who} {i}", messageId));
                        Acknowledged.TrySetResult();
                        break;
                    }
                    catch (Exception) when (Client.Connection.State != Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected)
                    {
                        // The connection died with its node: a new one, through the balancer.
                        await ReconnectAsync();
                    }
                    catch (HubException error) when (error.Message.Contains("UNAVAILABLE: ", StringComparison.Ordinal))
                    {
                        Refusals++;
                        await Task.Delay(TimeSpan.FromMilliseconds(200));
                    }
                }
            }
            return acknowledged;
        }

        private async Task ReconnectAsync()
        {
            await Client.DisposeAsync();
            // Bounded: the membership declares a dead silo dead within seconds.
            for (var attempt = 1; ; attempt++)
            {
                // As a client's reconnect policy would, not hammering a cluster that is failing over.
                await Task.Delay(TimeSpan.FromMilliseconds(200));
                try
                {
                    Client = await HubClient.ConnectAsync(balancer, token);
                    Reconnects++;
                    return;
                }
                catch (Exception) when (attempt < 150)
                {
                }
            }
        }

        public ValueTask DisposeAsync() => Client.DisposeAsync();
    }
}
