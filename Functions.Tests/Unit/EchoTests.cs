using Functions.Hosting;

namespace Functions.Tests.Unit;

public sealed class EchoTests
{
    [Fact]
    public void A_value_of_up_to_64_characters_is_quoted_whole()
    {
        var value = new string('x', 64);

        Assert.Equal(value, Echo.Of(value));
        Assert.Equal("", Echo.Of(null));
    }

    [Fact]
    public void A_longer_value_keeps_its_first_64_characters_and_says_how_long_it_was()
    {
        var value = new string('x', 64) + "yz";

        Assert.Equal(new string('x', 64) + "… (66 characters)", Echo.Of(value));
    }

    [Fact]
    public void The_cut_never_splits_a_character_made_of_two_utf16_units()
    {
        var value = new string('x', 63) + "😀" + "tail"; // the emoji's high surrogate is the 64th unit

        Assert.Equal(new string('x', 63) + "… (69 characters)", Echo.Of(value));
    }

    [Fact]
    public void A_line_quote_puts_a_multi_line_text_on_one_line()
    {
        var traceback = "Traceback (most recent call last):\r\n  File \"app.py\", line 3\n\t\u001b[31mValueError: bad\u0000 \n";

        Assert.Equal("Traceback (most recent call last): File \"app.py\", line 3 [31mValueError: bad", Echo.Line(traceback, 200));
    }

    [Fact]
    public void A_line_quote_drops_bidi_controls_that_would_reorder_what_follows_where_it_is_shown()
    {
        Assert.Equal("the task failed: see gnp.exe here", Echo.Line("the task failed: see\u202Egnp.exe\u2066 here\u2069", 200));
    }

    [Fact]
    public void A_quoted_client_value_names_its_control_bidi_and_line_separator_characters_as_escapes()
    {
        Assert.Equal(@"1\u000A", Echo.Quote("1\n"));
        Assert.Equal(@"\u202Egnp.exe\u2028x\u0000\u001B[31m", Echo.Quote("\u202Egnp.exe\u2028x\0\u001b[31m"));
        Assert.Equal("café 😀 a b", Echo.Quote("café 😀 a b")); // letters, emoji and spaces as they are
    }

    [Fact]
    public void A_quoted_client_value_names_its_invisible_format_characters_as_escapes()
    {
        // Was: "model 'grok' is not one of: …, grok, …", a zero-width space making the refused value read as an allowed one.
        Assert.Equal(@"grok\u200B", Echo.Quote("grok\u200B"));
        Assert.Equal(@"\uFEFFa\u2060b\u00ADc", Echo.Quote("\uFEFFa\u2060b\u00ADc")); // byte-order mark, word joiner, soft hyphen
        Assert.Equal(@"grok\uFE0F grok\u034F grok\u3164 grok\U000E0020", Echo.Quote("grok\uFE0F grok\u034F grok\u3164 grok\U000E0020")); // a variation selector, the grapheme joiner, a Hangul filler, a tag
        Assert.Equal("cafe\u0301 नमस्ते", Echo.Quote("cafe\u0301 नमस्ते")); // marks on a letter are seen: as they are
    }

    [Fact]
    public void A_quoted_value_is_cut_before_its_characters_are_escaped()
    {
        Assert.Equal(new string('x', 63) + @"\u202E… (70 characters)", Echo.Quote(new string('x', 63) + "\u202E" + "tail12"));
    }
}
