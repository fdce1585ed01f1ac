using ChatGrains.ApiGateway.Http;

namespace ChatGrains.Tests.Unit;

public sealed class FieldErrorsTests
{
    [Theory]
    [InlineData("juan.perez@example.com", true)]
    [InlineData("a+tag@sub.example.es", true)]
    [InlineData("juan.perez@", false)]
    [InlineData("@example.com", false)]
    [InlineData("juan perez@example.com", false)]
    [InlineData("juan@example", false)]
    [InlineData("juan@example.", false)]
    [InlineData("<svg/onload=alert(1)>@x.io", false)]
    [InlineData("juan@<b>.io", false)]
    [InlineData("\"juan\"@example.com", false)]
    [InlineData("o'brien@example.com", false)]
    [InlineData("juan(x)@example.com", false)]
    [InlineData("ju\\an@example.com", false)]
    [InlineData("juan\t@example.com", false)]
    [InlineData("juan@exa\u00a0mple.com", false)]
    public void EmailsAreCheckedForAUsableShape(string email, bool valid)
    {
        var errors = new FieldErrors();
        errors.Email("email", email, required: true);
        Assert.Equal(valid, errors.IsEmpty);
    }

    [Theory]
    [InlineData(@"Juan Pérez", true)]
    [InlineData(@"Juan \ud83d\ude00", true)]
    [InlineData(@"Juan\ud800", false)]
    [InlineData(@"\udc00Juan", false)]
    [InlineData(@"Juan\udc00\ud800", false)]
    [InlineData(@"Juan\u202Eexe.txt", false)]
    [InlineData(@"Ju\u200Ban", false)]
    [InlineData(@"Ju\u2028an", false)]
    [InlineData(@"Ju\u2029an", false)]
    [InlineData(@"Ju\u2066an", false)]
    [InlineData(@"Ju\udb40\udc41an", false)]
    public void TextMayNotHoldUnpairedSurrogatesOrInvisibleFormatCharacters(string text, bool valid)
    {
        var errors = new FieldErrors();
        // Escaped in the attribute: the test runner does not carry a lone surrogate intact.
        errors.Text("name", System.Text.RegularExpressions.Regex.Unescape(text), maxLength: 100);
        Assert.Equal(valid, errors.IsEmpty);
    }

    [Theory]
    [InlineData("192.168.1.100", true)]
    [InlineData("::1", true)]
    [InlineData("2001:db8::8a2e:370:7334", true)]
    [InlineData("1", false)]
    [InlineData("0x7f.1", false)]
    [InlineData("256.1.1.1", false)]
    [InlineData("01.2.3.4", false)]
    [InlineData("localhost", false)]
    public void IpAddressesMustBeWrittenOutInFull(string ip, bool valid)
    {
        var errors = new FieldErrors();
        errors.IpAddress("ip", ip);
        Assert.Equal(valid, errors.IsEmpty);
    }

    [Theory]
    [InlineData("+34123456789", true)]
    [InlineData("(91) 123-45-67", true)]
    [InlineData("1234", false)]
    [InlineData("+34 ABC", false)]
    [InlineData("+1234567890123456", false)]
    public void PhonesHoldFiveToFifteenDigits(string phone, bool valid)
    {
        var errors = new FieldErrors();
        errors.Phone("phone", phone);
        Assert.Equal(valid, errors.IsEmpty);
    }

    [Theory]
    [InlineData("https://google.com", true)]
    [InlineData("http://example.com/a?b=c", true)]
    [InlineData("ftp://example.com", false)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("/relative", false)]
    public void UrlsMustBeAbsoluteHttp(string url, bool valid)
    {
        var errors = new FieldErrors();
        errors.HttpUrl("url", url);
        Assert.Equal(valid, errors.IsEmpty);
    }

    [Fact]
    public void TextIsTrimmedAndBlankOptionalTextIsAbsent()
    {
        var errors = new FieldErrors();
        Assert.Equal("Juan", errors.Text("name", "  Juan ", 10, required: true));
        Assert.Null(errors.Text("company", "   ", 10));
        Assert.True(errors.IsEmpty);
    }

    [Fact]
    public void EveryMessageForAFieldIsKept()
    {
        var errors = new FieldErrors();
        errors.Text("name", null, 10, required: true);
        errors.Uuid("id", "nope");
        errors.Add("id", "second");

        var map = errors.ToDictionary();

        Assert.Equal(["'name' is required."], map["name"]);
        Assert.Equal(2, map["id"].Length);
    }
}
