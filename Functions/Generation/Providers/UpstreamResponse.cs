using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Functions.Generation.Providers;

/// <summary>An upstream's answer, read whole within its attempt's time bound.</summary>
public sealed partial record UpstreamResponse(HttpStatusCode Status, byte[] Body, TimeSpan? RetryAfter, TimeSpan Duration)
{
    static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    public bool IsSuccess => (int)Status is >= 200 and < 300;

    /// <summary>
    /// The body as a JSON object, or null when it is none: a proxy's HTML page, a truncated answer, JSON of another kind
    /// (reading a member of an array would throw), or JSON that could not be read back (a key given twice, a lone
    /// surrogate escape). The token the call was sent with is masked in it.
    /// </summary>
    public JsonObject? Json(string token)
    {
        var body = JsonText.WithoutByteOrderMark(Body).Span;
        try
        {
            var root = JsonElement.Parse(body, Strict);
            if (root.ValueKind != JsonValueKind.Object || JsonText.FirstUndecodableString(root) is not null) return null;
            var json = JsonObject.Create(root)!;
            if (token.Length > 0 && MayQuote(body, token)) Mask(json, token);
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

    // The walk is skipped for the usual answer (a large Base64 image, no escapes): the token can only hide in an escape,
    // or in a key the upstream masked itself.
    static bool MayQuote(ReadOnlySpan<byte> body, string token)
    {
        if (body.IndexOf(Encoding.UTF8.GetBytes(token)) >= 0 || body.IndexOf((byte)'\\') >= 0 || body.IndexOf("***"u8) >= 0) return true;
        foreach (var fragment in FragmentsOf(token))
            if (body.IndexOf(Encoding.UTF8.GetBytes(fragment)) >= 0) return true;
        return false;
    }

    // An upstream may quote the token cut short ("sk-SECRETto...WXYZ"): its first or last 8 characters mark the word as
    // the key's. A token under 12 characters has no fragment long enough to tell from ordinary text.
    static string[] FragmentsOf(string token) => token.Length >= 12 ? [token[..8], token[^8..]] : [];

    // An upstream may quote the token it was sent (in an error, even in a result): it becomes *** before any message,
    // apiDebug or log is made of the answer. A body that is no JSON object is never shown.
    static void Mask(JsonNode node, string token)
    {
        var children = node switch
        {
            JsonObject obj => obj.Select(member => (Key: (object)member.Key, member.Value)).ToList(),
            JsonArray array => array.Select((item, index) => (Key: (object)index, Value: item)).ToList(),
            _ => [],
        };
        foreach (var (key, child) in children)
        {
            if (child is JsonValue value && value.TryGetValue<string>(out var text))
            {
                var masked = text.Replace(token, "***", StringComparison.Ordinal);
                if (key is not string field || !ImageFields.Contains(field)) masked = MaskQuotedInPart(masked, token);
                if (masked == text) continue;
                if (key is string name) node[name] = JsonValue.Create(masked);
                else node[(int)key] = JsonValue.Create(masked);
            }
            else if (child is not null) Mask(child, token);
        }
    }

    // The fields an image is read from: a signed URL may hold another JWT (whose first 8 characters every JWT shares),
    // and Base64 any 8 characters, so there only the whole token is masked.
    static readonly HashSet<string> ImageFields = ["url", "image_url", "b64_json"];

    // Text for people: a key the upstream masked itself, or a word holding the token's first or last 8 characters.
    static string MaskQuotedInPart(string text, string token)
    {
        var masked = SelfMasked().Replace(text, "***");
        foreach (var fragment in FragmentsOf(token))
            if (masked.Contains(fragment, StringComparison.Ordinal))
                masked = Regex.Replace(masked, $"""[^\s'"]*{Regex.Escape(fragment)}[^\s'"]*""", "***");
        return masked;
    }

    // A key the upstream masked itself (OpenAI: "sk-proj-****...WXYZ") still shows its two ends: the whole key goes.
    // Key-shaped only (a prefix and a dash or underscore before the stars), so "***NEW***" or a URL's stars stay.
    [GeneratedRegex(@"(?<![\w*/.-])[A-Za-z][A-Za-z0-9]*[-_][\w-]*\*{3,}\w*")]
    private static partial Regex SelfMasked();
}
