using ChatGrains.ApiGateway.Http;
using ChatGrains.ApiGateway.LiveChat;

namespace ChatGrains.Tests.Unit;

/// <summary>The live-chat request validation on its own (the grain is tested on a test cluster).</summary>
public sealed class LiveChatValidationTests
{
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
