using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Chats;
using ChatGrains.ApiGateway.Conversations;
using ChatGrains.ApiGateway.Events;
using ChatGrains.ApiGateway.GuestSessions;
using ChatGrains.ApiGateway.LiveChat;
using ChatGrains.ApiGateway.Webhooks;

namespace ChatGrains.ApiGateway.Http;

/// <summary>Source-generated (de)serialisation of every wire type: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, Converters = [typeof(LenientStringConverter)])]
[JsonSerializable(typeof(CreateChatRequest))]
[JsonSerializable(typeof(ChatResponse))]
[JsonSerializable(typeof(JwkSet))]
[JsonSerializable(typeof(GuestSessionRequest))]
[JsonSerializable(typeof(Envelope<GuestSessionData>))]
[JsonSerializable(typeof(Envelope<object>), TypeInfoPropertyName = "EnvelopeObject")]
[JsonSerializable(typeof(LiveChatSessionRequest))]
[JsonSerializable(typeof(LiveChatSessionResponse))]
[JsonSerializable(typeof(LiveChatValidationErrors))]
[JsonSerializable(typeof(LiveChatError))]
[JsonSerializable(typeof(LiveChatPageConfig))]
[JsonSerializable(typeof(MessageResource))]
[JsonSerializable(typeof(ChatIdResource))]
[JsonSerializable(typeof(ChatIdleResource))]
[JsonSerializable(typeof(JoinedChat))]
[JsonSerializable(typeof(ChatSessionResource))]
[JsonSerializable(typeof(LiveChatSessionStartedData))]
[JsonSerializable(typeof(EventsPage))]
[JsonSerializable(typeof(EventEnvelope))]
[JsonSerializable(typeof(WebhookTestData))]
[JsonSerializable(typeof(WebhookRequest))]
[JsonSerializable(typeof(WebhookResource))]
[JsonSerializable(typeof(WebhookWithSecret))]
[JsonSerializable(typeof(WebhookList))]
[JsonSerializable(typeof(DeliveryResource))]
[JsonSerializable(typeof(DeliveryList))]
internal sealed partial class ApiJson : JsonSerializerContext
{
    /// <summary>
    /// How every response, hub message, feed page and webhook is written: letters as themselves
    /// ("García", not "Garc\u00EDa"), while markup characters (&lt; &gt; &amp; ' " + `) and controls
    /// stay escaped, so a name holding "&lt;script&gt;" cannot reach a client that renders a body as
    /// HTML. (ASP.NET's default, the relaxed encoder, writes markup raw; the strict default escapes
    /// every non-ASCII letter.)
    /// </summary>
    public static JavaScriptEncoder Encoder { get; } = JavaScriptEncoder.Create(UnicodeRanges.All);

    /// <summary>The generated types with the web defaults, the lenient strings and <see cref="Encoder"/>: for bodies written with a type's info directly.</summary>
    public static ApiJson Wire { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        Encoder = Encoder,
        Converters = { new LenientStringConverter() },
    });

    /// <summary>
    /// <see cref="Wire"/>'s settings on options ASP.NET made (the HTTP APIs, the hub): the generated
    /// types first, lone surrogates read as text so that validation reports them
    /// (<see cref="LenientStringConverter"/>), and <see cref="Encoder"/>.
    /// </summary>
    public static JsonSerializerOptions WithWireSettings(JsonSerializerOptions options)
    {
        options.TypeInfoResolverChain.Insert(0, Default);
        options.Converters.Add(new LenientStringConverter());
        options.Encoder = Encoder;
        return options;
    }
}

/// <summary>Timestamps as the specs show them: UTC with milliseconds, <c>2025-01-01T10:00:00.000Z</c>.</summary>
public sealed class UtcMillisecondsConverter : JsonConverter<DateTimeOffset>
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture));
}
