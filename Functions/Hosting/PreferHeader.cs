using System.Globalization;
using System.Text;

namespace Functions.Hosting;

/// <summary>The RFC 7240 preferences a generate request may state: respond-async, and wait=seconds for a shorter sync wait.</summary>
public sealed record PreferHeader(bool RespondAsync, int? WaitSeconds)
{
    public static PreferHeader Of(HttpRequest request)
    {
        bool respondAsync = false, waitSeen = false;
        int? wait = null;
        foreach (var value in request.Headers["Prefer"])
            foreach (var (name, word) in Preferences(value ?? ""))
            {
                if (name.Equals("respond-async", StringComparison.OrdinalIgnoreCase) && word is null) respondAsync = true;
                else if (name.Equals("wait", StringComparison.OrdinalIgnoreCase) && !waitSeen)
                {
                    // RFC 7240 (2): of a preference stated more than once, only the first counts.
                    waitSeen = true;
                    if (int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) wait = seconds;
                }
            }
        return new PreferHeader(respondAsync, wait);
    }

    /// <summary>
    /// Each preference of a Prefer field: <c>token [ BWS "=" BWS word ] *( OWS ";" [ OWS parameter ] )</c>, comma-separated,
    /// a word being a token or a quoted string (whose commas and semicolons are its own). Its parameters are left out;
    /// an empty word is no word (RFC 7240, 2).
    /// </summary>
    static IEnumerable<(string Name, string? Word)> Preferences(string field)
    {
        var name = new StringBuilder();
        StringBuilder? word = null;
        bool quoted = false, inParameters = false;
        for (var i = 0; i <= field.Length; i++)
        {
            var c = i < field.Length ? field[i] : ',';
            if (i == field.Length) quoted = false; // an unclosed quote ends with the field
            if (quoted)
            {
                if (c == '\\' && i + 1 < field.Length) c = field[++i]; // a quoted pair
                else if (c == '"') { quoted = false; continue; }
                if (!inParameters) (word ?? name).Append(c);
                continue;
            }
            switch (c)
            {
                case ',':
                    if (name.ToString().Trim() is { Length: > 0 } preference)
                        yield return (preference, word?.ToString().Trim() is { Length: > 0 } w ? w : null);
                    (name, word, inParameters) = (new StringBuilder(), null, false);
                    break;
                case ';':
                    inParameters = true;
                    break;
                case '"':
                    quoted = true;
                    if (word is null && !inParameters) name.Append(c); // a quoted name is no token: it matches nothing
                    break;
                case '=' when !inParameters && word is null:
                    word = new StringBuilder();
                    break;
                default:
                    if (!inParameters) (word ?? name).Append(c);
                    break;
            }
        }
    }
}
