using System.Text.Json;
using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Conversations;

/// <summary>Offers, accepting, messages and catch-up through the hub of one node.</summary>
public sealed class ConversationTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private TestNode Node => fixture.Node;

    [Fact]
    public async Task AConnectedCommercialIsOfferedANewChatAsPutReturnsIt()
    {
        var (commercial, other) = (Guid.NewGuid(), Guid.NewGuid());
        await using var hub = await Conversation.CommercialAsync(Node, commercial);
        var chatId = Guid.NewGuid();

        var created = await Conversation.OpenChatAsync(Node, chatId, Guid.NewGuid(), commercial, other);

        var offered = await hub.NextAsync("chatOffered");
        Assert.True(Conversation.SameJson(offered, created), $"offered {offered.GetRawText()}\nPUT returned {created.ToJsonString()}");
        Assert.Equal("PENDING", offered.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ACommercialConnectingLaterReceivesTheChatsStillPendingForIt()
    {
        var (commercial, rival) = (Guid.NewGuid(), Guid.NewGuid());
        var (pending, taken, notForIt) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, pending, Guid.NewGuid(), commercial, rival);
        await Conversation.OpenChatAsync(Node, taken, Guid.NewGuid(), commercial, rival);
        await Conversation.OpenChatAsync(Node, notForIt, Guid.NewGuid(), rival);
        await using (var rivalHub = await Conversation.CommercialAsync(Node, rival))
        {
            await rivalHub.AcceptAsync(taken);
        }
        // The offers come from storage, as after a restart.
        await Node.CollectIdleGrainsAsync();

        await using var hub = await Conversation.CommercialAsync(Node, commercial);

        var offered = await hub.NextAsync("chatOffered");
        Assert.Equal(pending, offered.ChatId());
        // The catch-up is sent before anything else on the connection: a further offer would be there already.
        await hub.InvokeAsync<JsonElement>("JoinChat", pending.ToString(), 0L);
        await hub.AssertNoneAsync("chatOffered");
    }

    [Fact]
    public async Task TheFirstAcceptWinsTheOthersAreToldAndTheVisitorSeesItAccepted()
    {
        var (winner, loser, stranger, visitor) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var chatId = Guid.NewGuid();
        var created = await Conversation.OpenChatAsync(Node, chatId, visitor, winner, loser);
        await using var winnerHub = await Conversation.CommercialAsync(Node, winner);
        await using var loserHub = await Conversation.CommercialAsync(Node, loser);
        await using var strangerHub = await Conversation.CommercialAsync(Node, stranger);
        await using var visitorHub = await Conversation.VisitorAsync(Node, visitor);

        var accepted = await winnerHub.AcceptAsync(chatId);

        Assert.Equal("ACTIVE", accepted.GetProperty("status").GetString());
        Assert.Equal(winner, accepted.GetProperty("assignedCommercialId").GetGuid());
        Assert.True(accepted.GetProperty("updatedAt").GetDateTimeOffset() >= created["updatedAt"]!.GetValue<DateTimeOffset>());
        var taken = await loserHub.NextAsync("chatTaken");
        Assert.Equal(chatId, taken.ChatId());
        var seen = await visitorHub.NextAsync("chatAccepted");
        Assert.True(Conversation.SameJson(seen, System.Text.Json.Nodes.JsonNode.Parse(accepted.GetRawText())!));
        await winnerHub.AssertNoneAsync("chatTaken");

        Assert.Equal("CHAT_ALREADY_TAKEN", await loserHub.RefusedAsync("AcceptChat", chatId.ToString()));
        Assert.Equal("NOT_OFFERED", await strangerHub.RefusedAsync("AcceptChat", chatId.ToString()));
        Assert.Equal("ROLE_CANNOT_ACCEPT", await visitorHub.RefusedAsync("AcceptChat", chatId.ToString()));
        Assert.Equal("CHAT_NOT_FOUND", await loserHub.RefusedAsync("AcceptChat", Guid.NewGuid().ToString()));
        // Accepting again is the winner's no-op.
        Assert.Equal(accepted.GetRawText(), (await winnerHub.AcceptAsync(chatId)).GetRawText());

        // PUT replays return the chat as it is now.
        var replay = await Conversation.ReplayAsync(Node, chatId, visitor);
        Assert.True(Conversation.SameJson(accepted, replay), replay.ToJsonString());
    }

    [Fact]
    public async Task MessagesReachEveryConnectionOfBothParticipantsInOrderAndCountAsTheySay()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await using var phone = await Conversation.VisitorAsync(Node, visitor);
        await using var laptop = await Conversation.VisitorAsync(Node, visitor);
        await agent.AcceptAsync(chatId);

        var sent = new List<JsonElement>();
        for (var i = 1; i <= 6; i++)
        {
            sent.Add(i % 2 == 1 ? await phone.SendAsync(chatId, $"halo {i}\nbaris dua") : await agent.SendAsync(chatId, $"reply {i}"));
        }

        Assert.Equal([1L, 2, 3, 4, 5, 6], sent.Select(m => m.Seq()));
        var first = sent[0];
        Assert.Equal(chatId, first.ChatId());
        Assert.Equal("visitor", first.GetProperty("senderRole").GetString());
        Assert.Equal(visitor, first.GetProperty("senderId").GetGuid());
        Assert.Equal("halo 1\nbaris dua", first.GetProperty("text").GetString());
        Assert.Equal("commercial", sent[1].GetProperty("senderRole").GetString());
        foreach (var connection in new[] { agent, phone, laptop })
        {
            var received = new List<JsonElement>();
            for (var i = 0; i < sent.Count; i++)
            {
                received.Add(await connection.NextAsync("message"));
            }
            Assert.Equal(sent.Select(m => m.GetRawText()), received.Select(m => m.GetRawText()));
        }

        var replay = await Conversation.ReplayAsync(Node, chatId, visitor);
        Assert.Equal(6, replay["totalMessages"]!.GetValue<int>());
        Assert.Equal(3, replay["unreadMessagesCount"]!.GetValue<int>());
        var read = await agent.InvokeAsync<JsonElement>("MarkRead", chatId.ToString(), 3L);
        Assert.Equal(1, read.GetProperty("unreadMessagesCount").GetInt32());
        read = await agent.InvokeAsync<JsonElement>("MarkRead", chatId.ToString(), 6L);
        Assert.Equal(0, read.GetProperty("unreadMessagesCount").GetInt32());
        Assert.Equal(0, (await Conversation.ReplayAsync(Node, chatId, visitor))["unreadMessagesCount"]!.GetValue<int>());
    }

    [Fact]
    public async Task AChatsMessagesReachNoOtherUsersConnectionsOnTheSameNode()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var (otherCommercial, otherVisitor, otherChatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await Conversation.OpenChatAsync(Node, otherChatId, otherVisitor, otherCommercial);
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        await using var otherAgent = await Conversation.CommercialAsync(Node, otherCommercial);
        await using var otherGuest = await Conversation.VisitorAsync(Node, otherVisitor);
        await agent.AcceptAsync(chatId);
        await otherAgent.AcceptAsync(otherChatId);

        for (var i = 1; i <= 3; i++)
        {
            await guest.SendAsync(chatId, $"only for {commercial}");
        }
        // Sent after the three were delivered: the first message the other pair receives, unless
        // one of the three reached them too.
        var marker = await otherGuest.SendAsync(otherChatId, "the other chat");

        foreach (var connection in new[] { otherAgent, otherGuest })
        {
            Assert.Equal(marker.GetRawText(), (await connection.NextAsync("message")).GetRawText());
        }
        foreach (var connection in new[] { agent, guest })
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(chatId, (await connection.NextAsync("message")).ChatId());
            }
        }
    }

    [Fact]
    public async Task AResendOfAClientMessageIdReturnsTheStoredMessageAndDeliversNothingAgain()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        await agent.AcceptAsync(chatId);
        var messageId = Guid.NewGuid();

        var original = await guest.SendAsync(chatId, "sekali saja", messageId);
        var resent = await guest.SendAsync(chatId, "sekali saja", messageId);
        var marker = await guest.SendAsync(chatId, "berikutnya");

        Assert.Equal(original.GetRawText(), resent.GetRawText());
        Assert.Equal(messageId, original.GetProperty("id").GetGuid());
        Assert.Equal(2, marker.Seq());
        Assert.Equal(1, (await agent.NextAsync("message")).Seq());
        Assert.Equal(2, (await agent.NextAsync("message")).Seq());
        Assert.Equal("MESSAGE_ID_IN_USE", await agent.RefusedAsync("SendMessage", chatId.ToString(), messageId.ToString(), "mine now"));
        Assert.Equal(2, (await Conversation.ReplayAsync(Node, chatId, visitor))["totalMessages"]!.GetValue<int>());
    }

    [Fact]
    public async Task JoinChatReturnsWhatCameAfterTheGivenSequenceAndEveryCountSurvivesAReload()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        var ids = new List<Guid>();
        for (var i = 1; i <= 120; i++)
        {
            if (i == 4)
            {
                await agent.AcceptAsync(chatId);
            }
            if (i == 111)
            {
                // 101 … 110 less the commercial's 110.
                Assert.Equal(9, (await agent.InvokeAsync<JsonElement>("MarkRead", chatId.ToString(), 100L)).GetProperty("unreadMessagesCount").GetInt32());
            }
            ids.Add(Guid.NewGuid());
            await (i % 10 == 0 ? agent : guest).SendAsync(chatId, $"pesan {i}", ids[^1]);
        }

        // Messages are not written to the chat's record: a new activation counts them again.
        await Node.CollectIdleGrainsAsync();
        var all = await guest.JoinAsync(chatId);
        var after = await guest.JoinAsync(chatId, afterSeq: 37);

        Assert.Equal(Enumerable.Range(1, 120).Select(i => (long)i), all.GetProperty("messages").EnumerateArray().Select(m => m.Seq()));
        Assert.Equal(Enumerable.Range(1, 120).Select(i => $"pesan {i}"), all.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()));
        Assert.False(all.GetProperty("hasMore").GetBoolean());
        Assert.Equal(Enumerable.Range(38, 83).Select(i => (long)i), after.GetProperty("messages").EnumerateArray().Select(m => m.Seq()));
        var replayed = await Conversation.ReplayAsync(Node, chatId, visitor);
        Assert.Equal(120, replayed["totalMessages"]!.GetValue<int>());
        // 101 … 120 less the commercial's 110 and 120.
        Assert.Equal(18, replayed["unreadMessagesCount"]!.GetValue<int>());
        Assert.Equal(all.GetProperty("messages")[119].GetProperty("sentAt").GetDateTimeOffset(), replayed["updatedAt"]!.GetValue<DateTimeOffset>());
        // A resend of any earlier message is recognised, and the next message follows the last.
        Assert.Equal(5, (await guest.SendAsync(chatId, "pesan 5", ids[4])).Seq());
        Assert.Equal(121, (await guest.SendAsync(chatId, "pesan 121")).Seq());
        Assert.Equal(121, await Node.Database.CountAsync("chat_messages", "chat_id", chatId));
    }

    [Fact]
    public async Task AChatWhoseMessagesWereKeptInPagesHasThemMovedToTheMessageLog()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        // As the version before messages were rows kept 53: 1 … 50 sealed in a page record, 51 … 53 in the chat's.
        var sentAt = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var kept = Enumerable.Range(1, 53)
            .Select(seq => new ConversationMessage(seq, Guid.NewGuid(), ParticipantRole.Visitor, visitor, $"lama {seq}", sentAt.AddSeconds(seq)))
            .ToArray();
        await Node.Grains.GetGrain<IChatHistoryPageGrain>(ChatRecord.PageKey(chatId, 0)).Store(kept[..50]);
        await Node.CollectIdleGrainsAsync();
        await Node.Database.SetGrainPayloadAsync(GrainStorage.Chat, chatId, payload =>
        {
            payload["Messages"] = JsonSerializer.SerializeToNode(kept[50..]);
            payload["SealedPages"] = 1;
            payload["Value"]!["TotalMessages"] = 53;
        });

        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        var joined = await guest.JoinAsync(chatId);

        Assert.Equal(kept.Select(m => m.Text), joined.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()));
        Assert.Equal(53, joined.GetProperty("chat").GetProperty("totalMessages").GetInt32());
        Assert.Equal(kept[2].Seq, (await guest.SendAsync(chatId, "lama 3", kept[2].Id)).Seq());
        Assert.Equal(54, (await guest.SendAsync(chatId, "baru")).Seq());
        Assert.Equal(54, await Node.Database.CountAsync("chat_messages", "chat_id", chatId));
        var record = Assert.Single(await Node.Database.GrainPayloadsAsync(GrainStorage.Chat, chatId));
        Assert.Equal((0, 0), (record["Messages"]!.AsArray().Count, record["SealedPages"]!.GetValue<int>()));
    }

    [Fact]
    public async Task AChatStoredBeforeConversationsExistedTakesPartInOne()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var created = await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        // The record as the version before conversations wrote it: the chat, nothing else.
        await Node.CollectIdleGrainsAsync();
        await Node.Database.SetGrainPayloadAsync(ChatGrains.Grains.GrainStorage.Chat, chatId, payload =>
        {
            var record = payload.AsObject();
            foreach (var name in record.Select(p => p.Key).Where(name => name != "Value").ToList())
            {
                record.Remove(name);
            }
        });

        Assert.True(Conversation.SameJson(JsonDocument.Parse(created.ToJsonString()).RootElement, await Conversation.ReplayAsync(Node, chatId, visitor)));
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await agent.AcceptAsync(chatId);
        Assert.Equal(1, (await agent.SendAsync(chatId, "first")).Seq());
    }

    [Fact]
    public async Task OnlyTheChatsVisitorAndItsAssignedCommercialMaySend()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await using var intruder = await Conversation.VisitorAsync(Node, Guid.NewGuid());

        Assert.Equal("NOT_A_PARTICIPANT", await agent.RefusedAsync("SendMessage", chatId.ToString(), Guid.NewGuid().ToString(), "before accepting"));
        Assert.Equal("NOT_A_PARTICIPANT", await intruder.RefusedAsync("SendMessage", chatId.ToString(), Guid.NewGuid().ToString(), "not mine"));
        Assert.Equal("NOT_A_PARTICIPANT", await intruder.RefusedAsync("JoinChat", chatId.ToString(), 0L));
        Assert.Equal("CHAT_NOT_FOUND", await intruder.RefusedAsync("SendMessage", Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), "nobody"));
        Assert.Equal(0, (await Conversation.ReplayAsync(Node, chatId, visitor))["totalMessages"]!.GetValue<int>());
    }

    [Fact]
    public async Task MarkReadAndJoinChatRefuseByTheirExactCodesAndAnAdminReadsAnyChat()
    {
        var (commercial, visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, commercial);
        await using var agent = await Conversation.CommercialAsync(Node, commercial);
        await agent.AcceptAsync(chatId);
        await using var guest = await Conversation.VisitorAsync(Node, visitor);
        await guest.SendAsync(chatId, "Halo");
        await using var stranger = await Conversation.CommercialAsync(Node, Guid.NewGuid());
        var unknown = Guid.NewGuid().ToString();

        // MarkRead is the assigned commercial's alone.
        Assert.Equal("NOT_A_PARTICIPANT", await stranger.RefusedAsync("MarkRead", chatId.ToString(), 1L));
        Assert.Equal("NOT_A_PARTICIPANT", await guest.RefusedAsync("MarkRead", chatId.ToString(), 1L));
        Assert.Equal("CHAT_NOT_FOUND", await agent.RefusedAsync("MarkRead", unknown, 1L));
        Assert.Equal("CHAT_NOT_FOUND", await agent.RefusedAsync("JoinChat", unknown, 0L));
        Assert.Equal(1, (await Conversation.ReplayAsync(Node, chatId, visitor))["unreadMessagesCount"]!.GetValue<int>());

        // An admin reads any chat, messages included, without being its participant.
        await using var admin = await HubClient.ConnectAsync(Node, Node.Token(ChatGrains.ApiGateway.Auth.Roles.Admin, Guid.NewGuid()));
        var joined = await admin.JoinAsync(chatId);
        Assert.Equal(chatId, joined.GetProperty("chat").GetProperty("id").GetGuid());
        Assert.Equal(["Halo"], joined.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()));
        Assert.False(joined.GetProperty("hasMore").GetBoolean());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n ")]
    [InlineData("bell \u0007")]
    [InlineData("tab\there")]
    [InlineData("evil\u202Etxt.exe")]
    [InlineData("zero\u200Bwidth")]
    [InlineData("line\u2028separator")]
    [InlineData("paragraph\u2029separator")]
    [InlineData("\u200Dleading joiner")]
    [InlineData("joiner\u200D after a word")]
    public async Task TextThatIsNotAMessageIsRefusedAndNothingIsStored(string text)
    {
        var (visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, Guid.NewGuid());
        await using var guest = await Conversation.VisitorAsync(Node, visitor);

        Assert.Equal("VALIDATION_FAILED", await guest.RefusedAsync("SendMessage", chatId.ToString(), Guid.NewGuid().ToString(), text));
        Assert.Equal(0, (await Conversation.ReplayAsync(Node, chatId, visitor))["totalMessages"]!.GetValue<int>());
    }

    [Fact]
    public void AnUnpairedSurrogateIsNotText()
    {
        // The .NET client's JSON writer replaces a lone surrogate before sending, so the hub's
        // check (reached with the lenient string reader, as for the HTTP APIs) is tested here.
        var error = Assert.Throws<Microsoft.AspNetCore.SignalR.HubException>(() => ChatGrains.ApiGateway.Conversations.HubArguments.Text("\ud800 lone"));
        Assert.StartsWith("VALIDATION_FAILED: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LimitsOfTextAndIdsAreChecked()
    {
        var (visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, Guid.NewGuid());
        await using var guest = await Conversation.VisitorAsync(Node, visitor);

        Assert.Equal(4000, (await guest.SendAsync(chatId, new string('a', 4000))).GetProperty("text").GetString()!.Length);
        Assert.Equal("VALIDATION_FAILED", await guest.RefusedAsync("SendMessage", chatId.ToString(), Guid.NewGuid().ToString(), new string('a', 4001)));
        Assert.Equal("VALIDATION_FAILED", await guest.RefusedAsync("SendMessage", "not-a-chat", Guid.NewGuid().ToString(), "hi"));
        Assert.Equal("VALIDATION_FAILED", await guest.RefusedAsync("SendMessage", chatId.ToString(), "42", "hi"));
        Assert.Equal(1, (await Conversation.ReplayAsync(Node, chatId, visitor))["totalMessages"]!.GetValue<int>());
    }

    [Fact]
    public async Task MarkupInAMessageTravelsEscapedAsText()
    {
        var (visitor, chatId) = (Guid.NewGuid(), Guid.NewGuid());
        await Conversation.OpenChatAsync(Node, chatId, visitor, Guid.NewGuid());
        await using var guest = await Conversation.VisitorAsync(Node, visitor);

        var message = await guest.SendAsync(chatId, "<img src=x onerror=alert(1)>");

        Assert.Equal("<img src=x onerror=alert(1)>", message.GetProperty("text").GetString());
    }
}
