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
    public static string Line(string? value, int maxChars = MaxChars) =>
        Of(value is null ? null : ControlOrSpace().Replace(value, " ").Trim(), maxChars);

    [GeneratedRegex(@"[\s\p{Cc}" + BidiControls + "]+")]
    private static partial Regex ControlOrSpace();
}
