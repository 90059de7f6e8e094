using System.Buffers.Text;
using System.Text.Json.Nodes;
using Functions.Contracts.Kioai;

namespace Functions.Generation;

/// <summary>
/// Makes a call safe to show: credentials (headers, secret-named fields, a URL's signature, in the request URL and in
/// any URL of the bodies) become "***" and Base64 payloads become their length,
/// so apiDebug never carries a secret or megabytes of image data; a long text is cut, and a body too large is replaced by a note.
/// </summary>
public static class ApiDebugRedaction
{
    /// <summary>What a credential becomes.</summary>
    public const string Hidden = "***";
    const int LongestPlainString = 256;

    /// <summary>The longest text shown whole: a prompt of 4,000 emoji (8,000 UTF-16 units) fits; longer is cut, with its length.</summary>
    public const int LongestShownString = 8_192;

    /// <summary>
    /// The most a body may take once redacted and serialized; a larger one is replaced by a note of its size. A job carries
    /// its apiDebug through the job engine, whose messages are bounded (4 MiB over gRPC): an upstream's answer of
    /// megabytes of text kept whole failed its step there, which then held the job past its deadline.
    /// </summary>
    public const int LargestShownBody = 32 * 1024;

    static readonly HashSet<string> SecretHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie", "x-admin-key", "ocp-apim-subscription-key",
    };

    static readonly string[] SecretNameParts = ["token", "secret", "password", "apikey", "api_key", "authorization", "signature"];

    // Names too short to look for inside others: a key, and an Azure SAS's signature.
    static readonly HashSet<string> SecretQueryNames = new(StringComparer.OrdinalIgnoreCase) { "key", "sig" };

    public static ApiDebugInfo Create(string url, string method, IEnumerable<KeyValuePair<string, string>> headers, JsonObject requestBody,
        int status, JsonObject responseBody, TimeSpan duration, bool usedFallback = false, string? fallbackReason = null) =>
        new(Url(url), method,
            headers.ToDictionary(h => h.Key, h => SecretHeaders.Contains(h.Key) ? Hidden : h.Value, StringComparer.OrdinalIgnoreCase),
            Bounded((JsonObject)Body(requestBody)!), status, Bounded((JsonObject)Body(responseBody)!), Math.Round(duration.TotalMilliseconds, 1),
            usedFallback, fallbackReason);

    static JsonObject Bounded(JsonObject body) => TextLength(body) is var length and > LargestShownBody
        ? new JsonObject { ["omitted"] = $"The body is about {length} characters once redacted; apiDebug shows at most {LargestShownBody}." }
        : body;

    // Counted as text, not as JSON's escapes: a prompt of 4,000 emoji is 8,000 characters, and 48,000 with each escaped.
    static long TextLength(JsonNode? node) => node switch
    {
        JsonObject obj => obj.Sum(p => p.Key.Length + 4L + TextLength(p.Value)),
        JsonArray array => array.Sum(item => 1L + TextLength(item)),
        JsonValue value when value.TryGetValue<string>(out var text) => text.Length + 2L,
        null => 4,
        _ => node.ToJsonString().Length,
    };

    /// <summary>
    /// How many levels of objects and arrays a body shows; deeper ones become a note. apiDebug sits 3 levels down in an
    /// answer, and deeper in a job's engine messages, whose writers stop at 64: an upstream's answer read whole (64 levels) failed them.
    /// </summary>
    public const int DeepestShownLevel = 16;

    /// <summary>Redacts a JSON body: secret-named fields and Base64 blobs anywhere in it, and what lies past <see cref="DeepestShownLevel"/>.</summary>
    public static JsonNode? Body(JsonNode? node) => Body(node, level: 0);

    static JsonNode? Body(JsonNode? node, int level) => node switch
    {
        JsonObject or JsonArray when level >= DeepestShownLevel => JsonValue.Create($"<nested deeper than {DeepestShownLevel} levels>"),
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key,
            IsSecretName(p.Key) && !IsTokenCount(p.Key, p.Value) ? JsonValue.Create(Hidden)
            : IsPrompt(p.Key) && p.Value is JsonValue prompt && prompt.TryGetValue<string>(out var text) ? JsonValue.Create(String(text, mayBePayload: false))
            : Body(p.Value, level + 1)))),
        JsonArray array => new JsonArray(array.Select(item => Body(item, level + 1)).ToArray()),
        JsonValue value when LongBase64Note(value) is { } note => JsonValue.Create(note),
        JsonValue value when value.TryGetValue<string>(out var text) => JsonValue.Create(String(text)),
        _ => node?.DeepClone(),
    };

    /// <summary>What apiDebug shows in place of a Base64 payload: its decoded size (README: "&lt;base64: N bytes&gt;").</summary>
    public static string Base64Note(long decodedBytes) => $"<base64: {decodedBytes} bytes>";

    // An answer's Base64 image is noted from its UTF-8, as String would note it, without a .NET string twice its size.
    static string? LongBase64Note(JsonValue value) =>
        JsonText.TryGetUnescapedUtf8(value, out var utf8) && utf8.Length > LongestPlainString && utf8.IndexOfAny((byte)' ', (byte)'\t') < 0
        && Base64.IsValid(utf8, out var decodedLength) ? Base64Note(decodedLength) : null;

    // A prompt (prompt, negative_prompt, revised_prompt) is text someone wrote, even when it reads as Base64 ("aaaa…").
    static bool IsPrompt(string name) => name.Contains("prompt", StringComparison.OrdinalIgnoreCase);

    /// <summary>A URL loses its query-string credentials; a long Base64 string (or data URL) becomes a note of its decoded size.</summary>
    public static string String(string text) => String(text, mayBePayload: true);

    static string String(string text, bool mayBePayload)
    {
        // An upstream's answer carries its image's URL, signed (sig=, X-Amz-Signature=) as often as not.
        if (text.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            return Echo.Of(Url(text), LongestShownString);
        if (text.Length <= LongestPlainString || !mayBePayload) return Echo.Of(text, LongestShownString);
        var payload = text.StartsWith("data:", StringComparison.Ordinal) && text.IndexOf(',') is var comma and > 0 ? text[(comma + 1)..] : text;
        // Base64.IsValid skips white space, which would let long prose pass for Base64; MIME breaks Base64 into lines.
        return !payload.Any(c => char.IsWhiteSpace(c) && c is not '\r' and not '\n') && Base64.IsValid(payload, out var decodedLength) ? Base64Note(decodedLength)
            : Echo.Of(text, LongestShownString);
    }

    /// <summary>
    /// The URL with its credentials hidden: its user and password (scheme://user:password@host), and its query-string
    /// ones (?key=..., ?api_key=..., a signed URL's X-Amz-Signature=... or sig=...).
    /// </summary>
    public static string Url(string url)
    {
        url = WithoutUserInfo(url);
        var question = url.IndexOf('?');
        if (question < 0) return url;
        var query = url[(question + 1)..].Split('&').Select(pair =>
        {
            var name = pair.Split('=', 2)[0];
            var decoded = Uri.UnescapeDataString(name.Replace('+', ' ')); // api%5Fkey is api_key
            return IsSecretName(decoded) || SecretQueryNames.Contains(decoded) ? $"{name}={Hidden}" : pair;
        });
        return url[..question] + "?" + string.Join('&', query);
    }

    // The user information of the authority, between "//" and the last "@" before the path, query or fragment, hidden whole:
    // a user name alone may be a token (https://ghp_…@host).
    static string WithoutUserInfo(string url)
    {
        var authority = url.IndexOf("//", StringComparison.Ordinal) + 2;
        if (authority < 2) return url;
        var end = url.IndexOfAny(['/', '\\', '?', '#'], authority) is var found and >= 0 ? found : url.Length; // Uri takes "\\" as "/"
        var at = url.LastIndexOf('@', end - 1, end - authority);
        return at < 0 ? url : url[..authority] + Hidden + url[at..];
    }

    // A model's usage ("input_tokens": 10, "max_tokens", "input_tokens_details": {...}): counted tokens, not a credential.
    // Any other value under a secret's name is hidden whole, an array or object included.
    static bool IsTokenCount(string name, JsonNode? value) => value?.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.Number => name.Contains("tokens", StringComparison.OrdinalIgnoreCase),
        System.Text.Json.JsonValueKind.Object => name.EndsWith("tokens_details", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    static bool IsSecretName(string name)
    {
        var lower = name.ToLowerInvariant().Replace("-", "");
        return SecretHeaders.Contains(name) || SecretNameParts.Any(part => lower.Contains(part.Replace("-", "")));
    }
}
