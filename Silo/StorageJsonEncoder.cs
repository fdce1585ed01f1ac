using System.Text;
using System.Text.Encodings.Web;

namespace ChatGrains.Silo;

/// <summary>
/// The encoder of grain records: escapes only what JSON requires (quote, backslash, control
/// characters). System.Text.Json's default writes every non-ASCII character
/// as a 6-byte <c>\uXXXX</c> (an emoji as 12 bytes) and the relaxed one still escapes emoji, so a
/// 4,000-character message cost up to 24 KB instead of its UTF-8 size. Records are read by the
/// grains and by operators with SQL, never placed in a page, so HTML-sensitive characters need
/// no escaping here; what the APIs and the hub send keeps its own encoder.
/// </summary>
internal sealed class StorageJsonEncoder : JavaScriptEncoder
{
    public static StorageJsonEncoder Instance { get; } = new();

    private StorageJsonEncoder()
    {
    }

    public override int MaxOutputCharactersPerInputCharacter => 6;

    public override bool WillEncode(int unicodeScalar) =>
        unicodeScalar < 0x20 || unicodeScalar is '"' or '\\' || !Rune.IsValid(unicodeScalar);

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        var chars = new ReadOnlySpan<char>(text, textLength);
        for (var i = 0; i < chars.Length;)
        {
            // Records are mostly ASCII (keys, ids, dates): those need no decoding.
            if (chars[i] < 0x80)
            {
                if (WillEncode(chars[i]))
                {
                    return i;
                }
                i++;
                continue;
            }
            if (Rune.DecodeFromUtf16(chars[i..], out var rune, out var consumed) != System.Buffers.OperationStatus.Done || WillEncode(rune.Value))
            {
                return i;
            }
            i += consumed;
        }
        return -1;
    }

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text)
    {
        for (var i = 0; i < utf8Text.Length;)
        {
            if (utf8Text[i] < 0x80)
            {
                if (WillEncode(utf8Text[i]))
                {
                    return i;
                }
                i++;
                continue;
            }
            if (Rune.DecodeFromUtf8(utf8Text[i..], out var rune, out var consumed) != System.Buffers.OperationStatus.Done || WillEncode(rune.Value))
            {
                return i;
            }
            i += consumed;
        }
        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var escaped = unicodeScalar switch
        {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            < 0x10000 => $"\\u{unicodeScalar:X4}",
            // Only reached for a valid scalar the writer chose to escape: as its surrogate pair.
            _ => $"\\u{0xD800 + ((unicodeScalar - 0x10000) >> 10):X4}\\u{0xDC00 + ((unicodeScalar - 0x10000) & 0x3FF):X4}",
        };
        if (escaped.Length > bufferLength)
        {
            numberOfCharactersWritten = 0;
            return false;
        }
        escaped.AsSpan().CopyTo(new Span<char>(buffer, bufferLength));
        numberOfCharactersWritten = escaped.Length;
        return true;
    }
}
