using System.Globalization;
using System.Text;

namespace Functions.Hosting;

/// <summary>What counts as blank in a client's text (a prompt, an upload's filename): nothing a reader would see.</summary>
public static class BlankText
{
    // Spaces, control and format characters (U+200B...), combining marks with nothing to combine with, and the
    // characters drawn as nothing.
    public static bool IsBlank(string text) => text.EnumerateRunes().All(r =>
        Rune.IsWhiteSpace(r) || Rune.IsControl(r) || IsDrawnAsNothing(r)
        || Rune.GetUnicodeCategory(r) is UnicodeCategory.Format or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark);

    /// <summary>
    /// A character fonts draw as nothing though it is no space nor format character: the Hangul fillers, the Braille
    /// blank, the combining grapheme joiner and the variation selectors.
    /// </summary>
    public static bool IsDrawnAsNothing(Rune r) => r.Value is 0x115F or 0x1160 or 0x3164 or 0xFFA0 or 0x2800 or 0x034F
        or (>= 0x180B and <= 0x180F) or (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0100 and <= 0xE01EF);
}
