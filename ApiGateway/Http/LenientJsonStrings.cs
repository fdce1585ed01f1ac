using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ChatGrains.ApiGateway.Http;

/// <summary>
/// Reads a JSON string even when it escapes an unpaired UTF-16 surrogate (<c>"\ud800"</c>), which
/// System.Text.Json refuses with an exception. The text then reaches validation, which names the
/// field in the API's own words alongside every other bad field, instead of failing the binding
/// (or, for a <see cref="JsonElement"/>, throwing wherever it is first read).
/// </summary>
public static class LenientJsonStrings
{
    /// <summary>The current String or PropertyName token, unescaped escape by escape.</summary>
    public static string Read(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.GetString()!;
        }
        return Unescape(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
    }

    /// <summary>
    /// Whether any string or property name in <paramref name="json"/>, at any depth, holds an
    /// unpaired surrogate; <paramref name="topLevelKeys"/> receives the object's own keys as read.
    /// </summary>
    public static bool HasUnpairedSurrogates(JsonElement json, List<string> topLevelKeys)
    {
        var found = false;
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json.GetRawText()));
        while (reader.Read())
        {
            if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName))
            {
                continue;
            }
            var text = Read(ref reader);
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                topLevelKeys.Add(text);
            }
            found |= FieldErrors.HasUnpairedSurrogates(text);
        }
        return found;
    }

    // The reader has already checked the escapes' syntax: a backslash is followed by one of
    // " \ / b f n r t, or by u and four hex digits. A 0x5C byte is never part of a multi-byte
    // UTF-8 sequence, so the runs between escapes decode on their own.
    private static string Unescape(ReadOnlySpan<byte> raw)
    {
        var text = new StringBuilder(raw.Length);
        while (!raw.IsEmpty)
        {
            var backslash = raw.IndexOf((byte)'\\');
            if (backslash < 0)
            {
                text.Append(Encoding.UTF8.GetString(raw));
                break;
            }
            text.Append(Encoding.UTF8.GetString(raw[..backslash]));
            var escape = raw[backslash + 1];
            if (escape == (byte)'u')
            {
                var parsed = Utf8Parser.TryParse(raw.Slice(backslash + 2, 4), out ushort unit, out _, 'x');
                System.Diagnostics.Debug.Assert(parsed, "the reader has validated the escape");
                text.Append((char)unit);
                raw = raw[(backslash + 6)..];
            }
            else
            {
                text.Append(escape switch
                {
                    (byte)'b' => '\b',
                    (byte)'f' => '\f',
                    (byte)'n' => '\n',
                    (byte)'r' => '\r',
                    (byte)'t' => '\t',
                    _ => (char)escape,
                });
                raw = raw[(backslash + 2)..];
            }
        }
        return text.ToString();
    }
}

/// <summary>Binds request strings through <see cref="LenientJsonStrings"/>; writes them as usual.</summary>
public sealed class LenientStringConverter : JsonConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String
            ? LenientJsonStrings.Read(ref reader)
            // The serializer adds the path, which names the field of the wrong JSON type.
            : throw new JsonException();

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value);

    // Dictionary keys (the error maps, customFields) go through the string converter too.
    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        LenientJsonStrings.Read(ref reader);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options) =>
        writer.WritePropertyName(value);
}

public static class LenientStringSchemas
{
    /// <summary>
    /// The schema generator describes a type with a custom converter as "anything"; strings are
    /// still strings on the wire, so say so again (nullable as the property is declared).
    /// </summary>
    public static OpenApiOptions DescribeLenientStringsAsStrings(this OpenApiOptions options) =>
        options.AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonTypeInfo.Type == typeof(string) && schema.Type is null)
            {
                schema.Type = context.JsonPropertyInfo is { IsGetNullable: true }
                    ? JsonSchemaType.String | JsonSchemaType.Null
                    : JsonSchemaType.String;
            }
            // A list of strings loses its (empty) items schema altogether.
            if (context.JsonTypeInfo is { Kind: JsonTypeInfoKind.Enumerable, ElementType: var element } && element == typeof(string) && schema.Items is null)
            {
                schema.Items = new OpenApiSchema { Type = JsonSchemaType.String };
            }
            return Task.CompletedTask;
        });
}
