using System.Net;
using System.Net.Sockets;
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
        else if (HasControlCharacters(value))
        {
            Add(field, $"'{field}' must not contain control characters.");
        }
        return value;
    }

    /// <summary>A UUID in its canonical 8-4-4-4-12 form.</summary>
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
        if (email is not null && email.Length <= 254 && !EmailPattern().IsMatch(email))
        {
            Add(field, $"'{field}' must be a valid e-mail address.");
        }
        return email;
    }

    public string? Phone(string field, string? value)
    {
        var phone = Text(field, value, maxLength: 32);
        if (phone is not null && phone.Length <= 32 && !(PhonePattern().IsMatch(phone) && phone.Count(char.IsAsciiDigit) is >= 5 and <= 15))
        {
            Add(field, $"'{field}' must be a phone number: digits, optionally a leading '+', spaces, dashes, dots or parentheses.");
        }
        return phone;
    }

    /// <summary>An IPv4 address in dotted-quad form or an IPv6 address; "1" or "0x7f.1" are not accepted.</summary>
    public string? IpAddress(string field, string? value)
    {
        var text = Text(field, value, maxLength: 45);
        if (text is not null && text.Length <= 45)
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
        if (text is not null && text.Length <= 2048
            && !(Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            Add(field, $"'{field}' must be an absolute http or https URL.");
        }
        return text;
    }

    public static bool HasControlCharacters(string value) => value.Any(char.IsControl);

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s.]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^\+?[0-9 ()\-.]+$", RegexOptions.CultureInvariant)]
    private static partial Regex PhonePattern();

    [GeneratedRegex(@"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$", RegexOptions.CultureInvariant)]
    private static partial Regex Ipv4Pattern();
}
