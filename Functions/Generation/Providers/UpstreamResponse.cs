using System.Globalization;
using System.Net;
using System.Text.Unicode;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Functions.Generation.Providers;

/// <summary>An upstream's answer, read whole within its attempt's time bound.</summary>
public sealed record UpstreamResponse(HttpStatusCode Status, byte[] Body, TimeSpan? RetryAfter, TimeSpan Duration)
{
    static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    /// <summary>What a failure says of an answer <see cref="Json"/> cannot read.</summary>
    public static readonly string Unreadable =
        $"a body that is no JSON object the app reads (not JSON, not UTF-8, cut short, a name given twice, or over {JsonText.MaxValues.ToString("N0", CultureInfo.InvariantCulture)} values)";

    public bool IsSuccess => (int)Status is >= 200 and < 300;

    /// <summary>
    /// The body as a JSON object, or null when it is none: a proxy's HTML page, a truncated answer, JSON of another kind
    /// (reading a member of an array would throw), JSON that could not be read back (a key given twice, a lone
    /// surrogate escape, a byte that is no UTF-8), or JSON of more than <see cref="JsonText.MaxValues"/> values. The token the call was sent with is masked in it.
    /// </summary>
    public JsonObject? Json(string token)
    {
        var text = JsonText.WithoutByteOrderMark(Body);
        var body = text.Span;
        try
        {
            // The parser leaves the UTF-8 of unescaped strings unchecked until one is read, which then throws.
            if (!Utf8.IsValid(body) || !JsonText.HasAtMostValues(body, JsonText.MaxValues)) return null;
            // Over the body itself, not a copy of it (a Base64 image's answer is tens of MB): the document is left to the
            // collector, as the tree reads it for as long as the answer is used.
            var root = JsonDocument.Parse(text, Strict).RootElement;
            if (root.ValueKind != JsonValueKind.Object || JsonText.FirstUndecodableString(root) is not null) return null;
            var json = JsonObject.Create(root)!;
            EchoedTokenMask.MaskIn(json, body, token);
            return json;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null; // the duplicate-name check met a property name that does not decode
        }
    }
}
