using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Net.Http.Headers;

namespace Functions.Hosting;

/// <summary>The text rules of a JSON body beyond its syntax: the charset it declares, and strings that decode.</summary>
public static class JsonText
{
    /// <summary>
    /// Why a Content-Type is refused for a JSON body: none, or another media type than application/json or
    /// application/*+json. A page in a browser can send a form, text/plain or untyped body cross-site without a
    /// preflight; a JSON type it cannot.
    /// </summary>
    public static string? MediaTypeProblem(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return "The request body must be JSON, sent with Content-Type: application/json; the request has no Content-Type.";
        if (MediaTypeHeaderValue.TryParse(contentType, out var media)
            && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                || (media.Type.Equals("application", StringComparison.OrdinalIgnoreCase) && media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))))
            return null;
        return $"The request body must be JSON, sent as Content-Type: application/json, not '{Echo.Quote(contentType)}'.";
    }

    /// <summary>Why a Content-Type's charset is refused (JSON between systems is UTF-8), or null when it is UTF-8 or absent.</summary>
    public static string? CharsetProblem(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)) return null;
        var declared = media.Parameters.Count(parameter => parameter.Name.Equals("charset", StringComparison.OrdinalIgnoreCase));
        if (declared == 0) return null;
        // The parser reads the first of two charsets, another reader may read the last: the body's text would be in doubt.
        if (declared > 1)
            return $"The Content-Type '{Echo.Quote(contentType!)}' declares a charset more than once; declare it once, as utf-8.";
        var charset = HeaderUtilities.RemoveQuotes(media.Charset).ToString();
        return charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase) ? null
            : $"The request body must be UTF-8 JSON; the Content-Type declares charset={Echo.Quote(charset)}.";
    }

    /// <summary>
    /// The most values (numbers, strings, objects, arrays...) a JSON body is read with, a client's or an upstream's: a
    /// request or an image API's answer holds a few dozen. Parsed, each value costs the parser a dozen bytes or more (a
    /// tree copies each into an object of its own), so within the size bounds a body of tiny values would hold
    /// gigabytes: 8.5 million zeros in a generate body held over 100 MB each, a 40 MB upstream answer 3.6 GB.
    /// </summary>
    public const int MaxValues = 10_000;

    /// <summary>Whether the JSON text holds at most <paramref name="max"/> values, counted by a forward-only reader that allocates nothing (JsonException when it is not JSON).</summary>
    public static bool HasAtMostValues(ReadOnlySpan<byte> json, int max, int maxDepth = 64)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        var values = 0;
        while (reader.Read())
            if (reader.TokenType is not (JsonTokenType.EndObject or JsonTokenType.EndArray or JsonTokenType.PropertyName) && ++values > max)
                return false;
        return true;
    }

    /// <summary>
    /// The UTF-8 of a string value read from JSON text, where it was written without escapes, without making a .NET
    /// string of it (a 60 MB Base64 image is 120 MB as one, made again at each read); false for any other value.
    /// </summary>
    public static bool TryGetUnescapedUtf8(JsonNode? node, out ReadOnlySpan<byte> utf8)
    {
        utf8 = default;
        if (node is not JsonValue value || !value.TryGetValue<JsonElement>(out var element) || element.ValueKind != JsonValueKind.String) return false;
        var raw = JsonMarshal.GetRawUtf8Value(element);
        if (raw is [(byte)'"', .., (byte)'"']) raw = raw[1..^1];
        if (IsEscaped(raw)) return false;
        utf8 = raw;
        return true;
    }

    /// <summary>The JSON text without a leading byte-order mark, which RFC 8259 lets a parser ignore (some clients and servers write one).</summary>
    public static ReadOnlyMemory<byte> WithoutByteOrderMark(ReadOnlyMemory<byte> json) => json.Span.StartsWith("\uFEFF"u8) ? json[3..] : json;

    /// <summary>
    /// The JSON path of the first string (a value or a property name) that cannot become a .NET string, such as a lone
    /// surrogate escape ("\ud800"); null when every string decodes. Only strings with escapes are decoded to find out:
    /// the caller has checked the whole text as UTF-8 (<see cref="System.Text.Unicode.Utf8.IsValid(ReadOnlySpan{byte})"/>).
    /// </summary>
    public static string? FirstUndecodableString(JsonElement element) => Find(element) is { } path ? "$" + path : null;

    // The path below this element, built only on the way back from a find.
    static string? Find(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsEscaped(JsonMarshal.GetRawUtf8Value(element)) && !Decodes(element) ? "" : null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Find(item) is { } inner) return $"[{index}]{inner}";
                    index++;
                }
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (IsEscaped(JsonMarshal.GetRawUtf8PropertyName(property)) && !Decodes(property)) return " (a property name)";
                    if (Find(property.Value) is { } inner) return $".{property.Name}{inner}";
                }
                return null;
            default:
                return null;
        }
    }

    // Unescaped text was checked as UTF-8 with the whole body; only an escape can still fail to decode.
    static bool IsEscaped(ReadOnlySpan<byte> raw) => raw.Contains((byte)'\\');

    static bool Decodes(JsonElement value) => Try(() => value.GetString());

    static bool Decodes(JsonProperty property) => Try(() => property.Name);

    static bool Try(Func<string?> decode)
    {
        try
        {
            decode();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
