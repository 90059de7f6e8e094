using System.Globalization;

namespace Functions.Hosting;

/// <summary>
/// Whole numbers as a path or query gives them: ASCII digits and nothing else. int.TryParse alone also takes trailing
/// NUL characters ("1%00" would read as 1).
/// </summary>
public static class WholeNumbers
{
    public static bool IsDigits(ReadOnlySpan<char> text) => !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9');

    /// <summary>An integer of any size: an optional minus, then ASCII digits.</summary>
    public static bool IsInteger(ReadOnlySpan<char> text) => IsDigits(text.StartsWith('-') ? text[1..] : text);

    public static bool TryParse(string? text, out int value)
    {
        value = 0;
        return IsDigits(text) && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
