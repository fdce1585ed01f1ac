using Microsoft.Net.Http.Headers;

namespace ChatGrains.ApiGateway.LiveChat;

/// <summary>
/// The live-chat API speaks Indonesian (spec 001: <c>"Nama wajib diisi."</c>) and English to a
/// client whose preferred <c>Accept-Language</c> is English.
/// </summary>
public sealed class LiveChatMessages
{
    public static readonly LiveChatMessages Indonesian = new(
        labels: new(StringComparer.Ordinal) { ["name"] = "Nama", ["city"] = "Kota", ["country"] = "Negara" },
        required: "{0} wajib diisi.",
        tooShort: "{0} minimal {1} karakter.",
        tooLong: "{0} maksimal {1} karakter.",
        disallowed: "{0} hanya boleh berisi huruf, angka, spasi dan tanda baca . , ' - ( ).",
        wrongType: "{0} harus berupa teks.",
        invalidBody: "Body permintaan harus berupa JSON yang valid.",
        captchaRequired: "Verifikasi captcha wajib diselesaikan.",
        captchaRejected: "Verifikasi captcha gagal atau sudah kedaluwarsa; silakan ulangi.",
        statuses: new()
        {
            [StatusCodes.Status413PayloadTooLarge] = "Body permintaan terlalu besar.",
            [StatusCodes.Status415UnsupportedMediaType] = "Content-Type harus application/json.",
            [StatusCodes.Status429TooManyRequests] = "Terlalu banyak permintaan; coba lagi nanti.",
            [StatusCodes.Status503ServiceUnavailable] = "Layanan sedang tidak tersedia; coba lagi nanti.",
        },
        fallback: "Terjadi kesalahan pada server.");

    public static readonly LiveChatMessages English = new(
        labels: new(StringComparer.Ordinal) { ["name"] = "Name", ["city"] = "City", ["country"] = "Country" },
        required: "{0} is required.",
        tooShort: "{0} must be at least {1} characters.",
        tooLong: "{0} must be at most {1} characters.",
        disallowed: "{0} may only contain letters, digits, spaces and the punctuation . , ' - ( ).",
        wrongType: "{0} must be text.",
        invalidBody: "The request body must be valid JSON.",
        captchaRequired: "The captcha must be completed.",
        captchaRejected: "The captcha failed or has expired; please solve it again.",
        statuses: new()
        {
            [StatusCodes.Status413PayloadTooLarge] = "The request body is too large.",
            [StatusCodes.Status415UnsupportedMediaType] = "Content-Type must be application/json.",
            [StatusCodes.Status429TooManyRequests] = "Too many requests; try again later.",
            [StatusCodes.Status503ServiceUnavailable] = "The service is temporarily unavailable; try again later.",
        },
        fallback: "Something went wrong on the server.");

    private readonly Dictionary<string, string> _labels;
    private readonly string _required, _tooShort, _tooLong, _disallowed, _wrongType;
    private readonly Dictionary<int, string> _statuses;
    private readonly string _fallback;

    private LiveChatMessages(Dictionary<string, string> labels, string required, string tooShort, string tooLong, string disallowed,
        string wrongType, string invalidBody, string captchaRequired, string captchaRejected, Dictionary<int, string> statuses, string fallback)
    {
        CaptchaRequired = captchaRequired;
        CaptchaRejected = captchaRejected;
        _labels = labels;
        _required = required;
        _tooShort = tooShort;
        _tooLong = tooLong;
        _disallowed = disallowed;
        _wrongType = wrongType;
        InvalidBody = invalidBody;
        _statuses = statuses;
        _fallback = fallback;
    }

    public string InvalidBody { get; }

    public string CaptchaRequired { get; }

    /// <summary>One message for every provider error code (expired, used before, invalid): the visitor solves it again.</summary>
    public string CaptchaRejected { get; }

    public string Required(string field) => string.Format(System.Globalization.CultureInfo.InvariantCulture, _required, Label(field));

    public string TooShort(string field, int min) => string.Format(System.Globalization.CultureInfo.InvariantCulture, _tooShort, Label(field), min);

    public string TooLong(string field, int max) => string.Format(System.Globalization.CultureInfo.InvariantCulture, _tooLong, Label(field), max);

    public string Disallowed(string field) => string.Format(System.Globalization.CultureInfo.InvariantCulture, _disallowed, Label(field));

    public string WrongType(string field) => _labels.ContainsKey(field)
        ? string.Format(System.Globalization.CultureInfo.InvariantCulture, _wrongType, Label(field))
        : InvalidBody;

    public string ForStatus(int status) => _statuses.GetValueOrDefault(status, _fallback);

    private string Label(string field) => _labels.GetValueOrDefault(field, field);

    /// <summary>English when the client's most preferred language is English; Indonesian otherwise.</summary>
    public static LiveChatMessages For(HttpRequest request)
    {
        var preferred = request.GetTypedHeaders().AcceptLanguage
            .Where(language => language.Quality is null or > 0)
            .OrderByDescending(language => language.Quality ?? 1)
            .FirstOrDefault();
        return preferred?.Value.Value is { } tag && (tag.Equals("en", StringComparison.OrdinalIgnoreCase) || tag.StartsWith("en-", StringComparison.OrdinalIgnoreCase))
            ? English
            : Indonesian;
    }
}
