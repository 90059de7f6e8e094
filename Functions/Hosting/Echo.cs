using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Functions.Hosting;

/// <summary>
/// A value quoted in an error message (a client's input, an upstream's error text): enough to name it, never a huge
/// text copied whole.
/// </summary>
public static partial class Echo
{
    const int MaxChars = 64;

    public static string Of(string? value, int maxChars = MaxChars)
    {
        if (value is null || value.Length <= maxChars) return value ?? "";
        var cut = char.IsHighSurrogate(value[maxChars - 1]) ? maxChars - 1 : maxChars; // never half a character
        return string.Concat(value.AsSpan(0, cut), $"… ({value.Length} characters)");
    }

    // Bidi controls (ALM, LRM, RLM, embeddings, overrides, isolates) reorder the text after them where it is shown: a
    // right-to-left override makes "photo\u202Egnp.exe" read as "photoexe.png".
    const string BidiControls = "\u061C\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069";

    public static bool IsBidiControl(char c) => BidiControls.Contains(c);

    /// <summary>
    /// <see cref="Of"/> on one line: each run of white space, control characters (an upstream's traceback, a terminal's
    /// escape codes) and bidi controls becomes one space, so a quoted text never spans lines of a log or of a client's
    /// display, nor reorders what a client shows after it.
    /// </summary>
    public static string Line(string? value, int maxChars = MaxChars) => Of(value is null ? null : OneLine(value), maxChars);

    /// <summary>The text as <see cref="Line"/> quotes it, whole.</summary>
    public static string OneLine(string value) => ControlOrSpace().Replace(value, " ").Trim();

    /// <summary>
    /// A client's value named in an error message: <see cref="Of"/> with each control character, line separator and
    /// format character (bidi controls, zero-width spaces and joiners, a byte-order mark, tags) and character drawn as
    /// nothing (<see cref="BlankText.IsDrawnAsNothing"/>) written as its \u (or \U) escape, so the value is named exactly
    /// (a trailing "\u000A" or "\u200B" shows) on one line, and never reorders the message around it where the client shows it.
    /// </summary>
    public static string Quote(string? value, int maxChars = MaxChars) =>
        string.Concat(Of(value, maxChars).EnumerateRunes().Select(r => IsUnseen(r) ? Escaped(r) : r.ToString()));

    // By character, not UTF-16 unit: a tag character (U+E0020) is a format character too. The bidi controls are format characters.
    static bool IsUnseen(Rune r) => BlankText.IsDrawnAsNothing(r) || Rune.GetUnicodeCategory(r) is UnicodeCategory.Control
        or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    static string Escaped(Rune r) => r.IsBmp ? $"\\u{r.Value:X4}" : $"\\U{r.Value:X8}";

    [GeneratedRegex(@"[\s\p{Cc}" + BidiControls + "]+")]
    private static partial Regex ControlOrSpace();
}
