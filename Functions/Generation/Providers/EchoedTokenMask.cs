using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Functions.Generation.Providers;

/// <summary>
/// An upstream may quote the token it was sent (in an error, even in a result, even as a property name): it is masked
/// before any message, apiDebug or log is made of the answer. A body that is no JSON object is never shown.
/// </summary>
static partial class EchoedTokenMask
{
    // What an echoed token becomes: the mark apiDebug shows for every other credential.
    const string Mask = ApiDebugRedaction.Hidden;
    // From this length a token is matched in any case and by its fragments; shorter, either could be ordinary text.
    const int LongToken = 12;
    // How much of a long token's start or end marks a word as the key's, for an upstream that quotes it cut short ("sk-SECRETto...WXYZ").
    const int FragmentLength = 8;

    /// <summary>Masks <paramref name="token"/> wherever <paramref name="json"/>, read from <paramref name="body"/>, quotes it.</summary>
    public static void MaskIn(JsonObject json, ReadOnlySpan<byte> body, string token)
    {
        if (token.Length > 0 && MayQuote(body, token)) MaskWithin(json, token);
    }

    // The walk is skipped for the usual answer (a large Base64 image, no escapes): the token can only hide in an escape,
    // in a percent-encoded URL, in another case, or in a key the upstream masked itself.
    static bool MayQuote(ReadOnlySpan<byte> body, string token)
    {
        if (body.IndexOfAny((byte)'\\', (byte)'%') >= 0 || body.IndexOf("***"u8) >= 0) return true;
        foreach (var part in PartsOf(token))
            foreach (var cased in (string[])[part, part.ToUpperInvariant(), part.ToLowerInvariant()])
                if (body.IndexOf(Encoding.UTF8.GetBytes(cased)) >= 0) return true;
        return false;
    }

    // The forms an upstream quotes text in: as sent, or percent-encoded in a URL it echoes (JSON escapes are undone by
    // the parse).
    static string[] FormsOf(string text) => Uri.EscapeDataString(text) is var encoded && encoded != text ? [text, encoded] : [text];

    static IEnumerable<string> PartsOf(string token) => [.. FormsOf(token), .. FragmentsOf(token)];

    // An upstream may quote the token cut short: its first or last FragmentLength characters, as sent or percent-encoded,
    // mark the word as the key's. A token shorter than LongToken has no fragment long enough to tell from ordinary text.
    static IEnumerable<string> FragmentsOf(string token) =>
        IsLong(token) ? [.. FormsOf(token[..FragmentLength]), .. FormsOf(token[^FragmentLength..])] : [];

    // A long token is matched in any case (an echo may be upper-cased, and percent-encoding's hex digits vary) and as a
    // property name; a shorter one only as sent, in values: in another case it is ordinary text.
    static bool IsLong(string token) => token.Length >= LongToken;

    static void MaskWithin(JsonNode node, string token)
    {
        if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
                if (Masked(array[i], token, imageField: false) is var item && !ReferenceEquals(item, array[i])) array[i] = item;
            return;
        }
        if (node is not JsonObject obj) return;
        foreach (var (name, child) in obj.ToList())
        {
            var value = Masked(child, token, ImageFields.Contains(name));
            var shownName = IsLong(token) ? MaskText(name, token) : name;
            if (shownName != name)
            {
                obj.Remove(name);
                obj[shownName] = value;
            }
            else if (!ReferenceEquals(value, child)) obj[name] = value;
        }
    }

    /// <summary>The node as it may be shown: a string masked (a new value), anything else masked within.</summary>
    static JsonNode? Masked(JsonNode? node, string token, bool imageField)
    {
        if (node is JsonValue value && value.TryGetValue<string>(out var text))
        {
            var masked = imageField ? MaskWhole(text, token, StringComparison.Ordinal) : MaskText(text, token);
            return masked == text ? node : JsonValue.Create(masked);
        }
        if (node is not null) MaskWithin(node, token);
        return node;
    }

    static string MaskWhole(string text, string token, StringComparison comparison) =>
        FormsOf(token).Aggregate(text, (masked, form) => masked.Replace(form, Mask, comparison));

    // The fields an image is read from: a signed URL may hold another JWT (whose first FragmentLength characters every JWT
    // shares), and Base64 any such fragment, so there only the whole token is masked, as sent or percent-encoded.
    static readonly HashSet<string> ImageFields = ["url", "image_url", "b64_json"];

    // Text for people: the token in either form, a key the upstream masked itself, or a word holding one of its fragments.
    static string MaskText(string text, string token)
    {
        var masked = SelfMasked().Replace(MaskWhole(text, token, IsLong(token) ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal), Mask);
        foreach (var fragment in FragmentsOf(token))
            if (masked.Contains(fragment, StringComparison.OrdinalIgnoreCase)) // in any case, as the replace below, whatever the culture
                masked = Regex.Replace(masked, $"""[^\s'"]*{Regex.Escape(fragment)}[^\s'"]*""", Mask, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        return masked;
    }

    // A key the upstream masked itself (OpenAI: "sk-proj-****...WXYZ") still shows its two ends: the whole key goes.
    // Key-shaped only (a prefix and a dash or underscore before the stars), so "***NEW***" or a URL's stars stay.
    [GeneratedRegex(@"(?<![\w*/.-])[A-Za-z][A-Za-z0-9]*[-_][\w-]*\*{3,}\w*")]
    private static partial Regex SelfMasked();
}
