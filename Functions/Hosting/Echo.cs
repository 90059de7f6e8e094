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

    /// <summary>
    /// <see cref="Of"/> on one line: each run of white space and control characters (an upstream's traceback, a
    /// terminal's escape codes) becomes one space, so a quoted text never spans lines of a log or of a client's display.
    /// </summary>
    public static string Line(string? value, int maxChars = MaxChars) =>
        Of(value is null ? null : ControlOrSpace().Replace(value, " ").Trim(), maxChars);

    [GeneratedRegex(@"[\s\p{Cc}]+")]
    private static partial Regex ControlOrSpace();
}
