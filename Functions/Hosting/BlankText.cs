using System.Globalization;
using System.Text;

namespace Functions.Hosting;

/// <summary>What counts as blank in a client's text (a prompt, an upload's filename): nothing a reader would see.</summary>
public static class BlankText
{
    // Spaces, control and format characters (U+200B...), combining marks with nothing to combine with, and the
    // characters fonts draw as nothing: the Hangul fillers, the Braille blank, variation selectors.
    public static bool IsBlank(string text) => text.EnumerateRunes().All(r =>
        Rune.IsWhiteSpace(r) || Rune.IsControl(r)
        || Rune.GetUnicodeCategory(r) is UnicodeCategory.Format or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
        || r.Value is 0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800 or (>= 0x180B and <= 0x180F) or (>= 0xFE00 and <= 0xFE0F));
}
