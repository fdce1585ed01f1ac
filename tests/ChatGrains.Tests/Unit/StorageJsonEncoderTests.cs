using System.Text;
using System.Text.Json;
using ChatGrains.Silo;

namespace ChatGrains.Tests.Unit;

public sealed class StorageJsonEncoderTests
{
    private static readonly JsonSerializerOptions Storage = new() { Encoder = StorageJsonEncoder.Instance };

    [Theory]
    [InlineData("你好，世界")]
    [InlineData("🙂👩\u200D💻🇮🇩")]
    [InlineData("שלום עולם مرحبا")]
    [InlineData("Halo, apa kabar? ça va")]
    [InlineData("<b>&'</b>")]
    public void TextIsWrittenAsItsUtf8BytesAndReadBackIdentically(string text)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(text, Storage);

        Assert.Equal(Encoding.UTF8.GetByteCount(text) + 2, json.Length);
        Assert.Equal(text, JsonSerializer.Deserialize<string>(json, Storage));
    }

    [Theory]
    [InlineData("say \"hi\"", "\"say \\\"hi\\\"\"")]
    [InlineData("a\\b", "\"a\\\\b\"")]
    [InlineData("line\nnext", "\"line\\nnext\"")]
    [InlineData("bell\u0007", "\"bell\\u0007\"")]
    public void WhatJsonRequiresIsStillEscaped(string text, string expected)
    {
        var json = JsonSerializer.Serialize(text, Storage);

        Assert.Equal(expected, json);
        Assert.Equal(text, JsonSerializer.Deserialize<string>(json, Storage));
    }
}
