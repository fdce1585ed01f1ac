using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// Collects validation messages per field while a request is turned into a command, so one
/// pass both checks and converts, and the client sees every bad field at once.
/// </summary>
public sealed partial class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }
        messages.Add(message);
    }

    /// <summary>Whether <paramref name="field"/> already has an error: a format check then adds nothing to it.</summary>
    public bool Has(string field) => _errors.ContainsKey(field);

    public Dictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>Trimmed text, or null when absent or blank (an error when required).</summary>
    public string? Text(string field, string? value, int maxLength, bool required = false)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                Add(field, $"'{field}' is required.");
            }
            return null;
        }
        value = value.Trim();
        if (value.Length > maxLength)
        {
            Add(field, $"'{field}' must be at most {maxLength} characters.");
        }
        else
        {
            CheckCharacters(field, value);
        }
        return value;
    }

    /// <summary>
    /// Reports what no text field may hold: control characters, unpaired UTF-16 surrogates (they
    /// cannot be encoded as UTF-8, so storage and the grain serializer would fail or alter them), and
    /// invisible format or separator characters (U+202E, U+200B, U+2028…), which make displayed text
    /// read differently from what it is. Returns whether the text is clean.
    /// </summary>
    public bool CheckCharacters(string field, string value)
    {
        if (HasControlCharacters(value))
        {
            Add(field, $"'{field}' must not contain control characters.");
        }
        else if (HasUnpairedSurrogates(value))
        {
            Add(field, UnpairedSurrogateMessage(field));
        }
        else if (HasSpoofingCharacters(value))
        {
            Add(field, $"'{field}' must not contain invisible format characters or line or paragraph separators.");
        }
        else
        {
            return true;
        }
        return false;
    }

    public static string UnpairedSurrogateMessage(string field) => $"'{field}' must not contain unpaired UTF-16 surrogates.";

    /// <summary>A UUID in its canonical 8-4-4-4-12 form.</summary>
    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, or <paramref name="absent"/> when not given (or wrong: an error).</summary>
    public long Whole(string field, string? value, long absent, long min, long max)
    {
        if (value is null)
        {
            return absent;
        }
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max)
        {
            return number;
        }
        Add(field, max == long.MaxValue
            ? $"'{field}' must be a whole number from {min}."
            : $"'{field}' must be a whole number from {min} to {max}.");
        return absent;
    }

    public Guid Uuid(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, $"'{field}' is required.");
            return Guid.Empty;
        }
        if (!Guid.TryParseExact(value, "D", out var id))
        {
            Add(field, $"'{field}' must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).");
        }
        return id;
    }

    public string? Email(string field, string? value, bool required)
    {
        var email = Text(field, value, maxLength: 254, required);
        if (email is not null && !Has(field) && !EmailPattern().IsMatch(email))
        {
            Add(field, $"'{field}' must be a valid e-mail address.");
        }
        return email;
    }

    public string? Phone(string field, string? value)
    {
        var phone = Text(field, value, maxLength: 32);
        if (phone is not null && !Has(field) && !(PhonePattern().IsMatch(phone) && phone.Count(char.IsAsciiDigit) is >= 5 and <= 15))
        {
            Add(field, $"'{field}' must be a phone number: digits, optionally a leading '+', spaces, dashes, dots or parentheses.");
        }
        return phone;
    }

    /// <summary>An IPv4 address in dotted-quad form or an IPv6 address; "1" or "0x7f.1" are not accepted.</summary>
    public string? IpAddress(string field, string? value)
    {
        var text = Text(field, value, maxLength: 45);
        if (text is not null && !Has(field))
        {
            var valid = IPAddress.TryParse(text, out var ip) && ip.AddressFamily switch
            {
                AddressFamily.InterNetwork => Ipv4Pattern().IsMatch(text),
                AddressFamily.InterNetworkV6 => true,
                _ => false,
            };
            if (!valid)
            {
                Add(field, $"'{field}' must be an IPv4 or IPv6 address.");
            }
        }
        return text;
    }

    public string? HttpUrl(string field, string? value)
    {
        var text = Text(field, value, maxLength: 2048);
        if (text is not null && !Has(field)
            && !(Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            Add(field, $"'{field}' must be an absolute http or https URL.");
        }
        return text;
    }

    public static bool HasControlCharacters(string value) => value.Any(char.IsControl);

    /// <summary>A high surrogate not followed by a low one, or a low one not preceded by a high one.</summary>
    public static bool HasUnpairedSurrogates(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Unicode categories Cf, Zl and Zp (bidi overrides, zero-width characters, line and paragraph separators).</summary>
    public static bool HasSpoofingCharacters(string value)
    {
        foreach (var rune in value.EnumerateRunes())
        {
            if (IsSpoofing(rune))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// As <see cref="HasSpoofingCharacters"/> for running text: a zero-width joiner or non-joiner
    /// (U+200D, U+200C) between two visible characters is allowed, as Persian, the Indic scripts and
    /// emoji sequences (a woman and a laptop make one emoji) need them; anywhere else they only hide something.
    /// </summary>
    public static bool HasSpoofingCharactersOutsideWords(string value)
    {
        var runes = value.EnumerateRunes().ToArray();
        for (var i = 0; i < runes.Length; i++)
        {
            if (!IsSpoofing(runes[i]))
            {
                continue;
            }
            var joinsAWord = runes[i].Value is 0x200C or 0x200D
                && i > 0 && IsVisible(runes[i - 1])
                && i + 1 < runes.Length && IsVisible(runes[i + 1]);
            if (!joinsAWord)
            {
                return true;
            }
        }
        return false;

        static bool IsVisible(Rune rune) => !IsSpoofing(rune) && !Rune.IsWhiteSpace(rune) && !Rune.IsControl(rune);
    }

    private static bool IsSpoofing(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    // No markup or quoting characters either: an address is shown in pages and mails, and
    // "<svg/onload=…>@x.io" is not one anybody can receive mail at.
    [GeneratedRegex(@"^[^@\s<>""'()\\]+@[^@\s<>""'()\\]+\.[^@\s.<>""'()\\]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^\+?[0-9 ()\-.]+$", RegexOptions.CultureInvariant)]
    private static partial Regex PhonePattern();

    [GeneratedRegex(@"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$", RegexOptions.CultureInvariant)]
    private static partial Regex Ipv4Pattern();
}
