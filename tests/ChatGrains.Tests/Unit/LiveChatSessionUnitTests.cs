using ChatGrains.ApiGateway.Http;
using ChatGrains.ApiGateway.LiveChat;
using ChatGrains.Grains;

namespace ChatGrains.Tests.Unit;

/// <summary>The session service and the validation on their own, with a recording store in place of the database.</summary>
public sealed class LiveChatSessionUnitTests
{
    private sealed class RecordingStore : ILiveChatSessionStore
    {
        public List<(LiveChatSession Session, LiveChatSessionStarted Started)> Inserted { get; } = [];

        public Task InsertAsync(LiveChatSession session, LiveChatSessionStarted started, CancellationToken cancellationToken)
        {
            Inserted.Add((session, started));
            return Task.CompletedTask;
        }
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task StartingASessionCreatesItsGuestUserAndOneEvent()
    {
        var store = new RecordingStore();
        var now = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
        var sessionId = Guid.NewGuid();
        var creations = new GrainCreations();
        var grain = new LiveChatSessionGrain(sessionId, store, creations, new FixedClock(now));

        var session = await grain.StartAsync(new StartLiveChatSession("Budi", "Solo", "Indonesia", TimeSpan.FromHours(24)), CancellationToken.None);

        Assert.Equal(sessionId, session.Id);
        Assert.Equal(("Budi", "Solo", "Indonesia"), (session.User.Name, session.User.City, session.User.Country));
        Assert.NotEqual(Guid.Empty, session.User.Id);
        Assert.Equal(now, session.CreatedAt);
        Assert.Equal(now.AddHours(24), session.ExpiresAt);
        var (stored, started) = Assert.Single(store.Inserted);
        Assert.Same(session, stored);
        Assert.Equal(new LiveChatSessionStarted(sessionId, session.User.Id, now, now.AddHours(24)), started);
        Assert.Equal(1, creations.Take()[GrainCreations.LiveChatSessions]);
    }

    [Fact]
    public async Task EverySessionGetsItsOwnGuestUser()
    {
        var store = new RecordingStore();
        var factory = new GrainFactory(null!, null!, store, new GrainCreations(), TimeProvider.System);

        var first = await factory.GetLiveChatSessionGrain(Guid.NewGuid()).StartAsync(new("Budi", "Solo", "Indonesia", TimeSpan.FromHours(1)), CancellationToken.None);
        var second = await factory.GetLiveChatSessionGrain(Guid.NewGuid()).StartAsync(new("Budi", "Solo", "Indonesia", TimeSpan.FromHours(1)), CancellationToken.None);

        Assert.NotEqual(first.User.Id, second.User.Id);
    }

    [Theory]
    [InlineData("Budi", "Solo", "Indonesia")]
    [InlineData("Siti Aminah", "Daerah Istimewa Yogyakarta", "Indonesia")]
    [InlineData("O'Brien", "Côte-Saint-Luc", "Côte d'Ivoire")]
    [InlineData("Nguyễn Văn A", "Hà Nội", "Việt Nam")]
    [InlineData("山田 太郎", "東京", "日本")]
    public void RealNamesAndPlacesAreAccepted(string name, string city, string country)
    {
        var errors = new FieldErrors();

        var valid = new LiveChatSessionRequest(name, city, country).Validate(errors, LiveChatMessages.Indonesian);

        Assert.True(errors.IsEmpty, string.Join("; ", errors.ToDictionary().SelectMany(e => e.Value)));
        Assert.Equal((name, city, country), valid);
    }

    [Theory]
    [InlineData("<b>Budi</b>")]
    [InlineData("\"><img src=x onerror=alert(1)>")]
    [InlineData("Budi & Co")]
    [InlineData("javascript:alert(1)")]
    [InlineData("Budi\u200b\u0007")]
    [InlineData("Budi\nSolo")]
    public void MarkupAndControlCharactersAreRejected(string name)
    {
        var errors = new FieldErrors();

        var valid = new LiveChatSessionRequest(name, "Solo", "Indonesia").Validate(errors, LiveChatMessages.English);

        Assert.Null(valid);
        Assert.Equal(["Name may only contain letters, digits, spaces and the punctuation . , ' - ( )."], errors.ToDictionary()["name"]);
    }

    [Fact]
    public void ValuesAreTrimmedBeforeTheyAreChecked()
    {
        var errors = new FieldErrors();

        var valid = new LiveChatSessionRequest("  Budi ", " S ", "Indonesia").Validate(errors, LiveChatMessages.Indonesian);

        Assert.Null(valid);
        Assert.Equal(["Kota minimal 2 karakter."], errors.ToDictionary()["city"]);
    }
}
