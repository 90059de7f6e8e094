using Functions.Contracts.Kioai;
using Functions.Generation;

namespace Functions.Tests.Unit;

public sealed class GenerateImageValidatorTests
{
    internal static readonly byte[] TinyPng = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC");

    static readonly ModelCatalog Catalog = ShippedCatalog.Load();

    static async Task<(GenerateImageInput? Input, ErrorResponse? Error)> ValidateAsync(string json)
    {
        using var document = JsonDocument.Parse(json);
        return await GenerateImageValidator.ValidateAsync(document.RootElement, Catalog, TestImages.Inspector, CancellationToken.None);
    }

    static async Task<string> ErrorOfAsync(string json) => (await ValidateAsync(json)).Error?.Error ?? "no error";

    [Fact]
    public async Task Prompt_alone_takes_the_contract_defaults()
    {
        var (input, error) = await ValidateAsync("""{"prompt":"a cat"}""");

        Assert.Null(error);
        Assert.Equal(("a cat", "realistic", "1:1", "grok", null, false), (input!.Prompt, input.Style, input.AspectRatio, input.Model, input.Resolution, input.IsPrivate));
    }

    [Theory]
    [InlineData("""{}""", "missing_prompt")]
    [InlineData("""{"prompt":null}""", "missing_prompt")]
    [InlineData("""{"prompt":"   \n "}""", "missing_prompt")]
    [InlineData("""{"prompt":"\u0000"}""", "missing_prompt")]
    [InlineData("""{"prompt":" \u200b\u2060 "}""", "missing_prompt")] // zero-width characters only
    [InlineData("""{"prompt":"\u2800\u3164\u115f\u034f"}""", "missing_prompt")] // drawn as nothing
    [InlineData("""{"prompt":"\u1160\uffa0\u20dd"}""", "missing_prompt")] // a Hangul filler, its halfwidth form, an enclosing mark alone
    [InlineData("""{"prompt":"x","referenceImageMime":"text/html"}""", "unsupported_media_type")] // checked even without an image
    [InlineData("""{"prompt":42}""", "invalid_type")]
    [InlineData("""{"prompt":"x","style":"pixel"}""", "invalid_value")]
    [InlineData("""{"prompt":"x","style":7}""", "invalid_type")]
    [InlineData("""{"prompt":"x","aspectRatio":"5:4"}""", "invalid_value")]
    [InlineData("""{"prompt":"x","model":"dall-e"}""", "invalid_value")]
    [InlineData("""{"prompt":"x","model":"nano-banana-pro","resolution":"8K"}""", "invalid_value")]
    [InlineData("""{"prompt":"x","model":"grok","resolution":"2K"}""", "resolution_not_supported")]
    [InlineData("""{"prompt":"x","isPrivate":"yes"}""", "invalid_type")]
    [InlineData("""{"prompt":"x","isPrivate":false}""", "no error")]
    [InlineData("""{"prompt":"x","isPrivate":null,"seed":null,"style":null,"resolution":null,"referenceImageMime":null,"referenceFileId":null}""", "no error")] // null is left out
    [InlineData("""{"prompt":"x","seed":"5"}""", "invalid_type")]
    [InlineData("""{"prompt":"x","seed":-1}""", "invalid_value")]
    [InlineData("""{"prompt":"x","seed":4294967295}""", "no error")]
    [InlineData("""{"prompt":"x","seed":4294967296}""", "invalid_value")]
    [InlineData("""{"prompt":"x","seed":1.5}""", "invalid_type")]
    [InlineData("""{"prompt":"x","seed":9223372036854775808}""", "invalid_value")] // an integer past 64 bits is out of range, not of another type
    [InlineData("""{"prompt":"x","seed":1e400}""", "invalid_value")]
    [InlineData("""{"prompt":"x","seed":1.0}""", "no error")] // JSON's integers include 1.0 and 1e3
    [InlineData("""{"prompt":"x","seed":1e3}""", "no error")]
    [InlineData("""{"prompt":"x","seed":12300e-2}""", "no error")]
    [InlineData("""{"prompt":"x","seed":-1.0}""", "invalid_value")]
    [InlineData("""{"prompt":"x","seed":-1e0}""", "invalid_value")]
    [InlineData("""{"prompt":"x","seed":1e-400}""", "invalid_type")] // a fraction, whatever a double makes of it
    [InlineData("""{"prompt":"x","seed":1e-99999999999999999999}""", "invalid_type")] // an exponent past 64 bits
    [InlineData("""{"prompt":"x","seed":1e99999999999999999999}""", "invalid_value")]
    [InlineData("""{"prompt":"x","seed":1.0000000000000001}""", "invalid_type")]
    [InlineData("""{"prompt":"x","seed":4294967295.0000001}""", "invalid_type")]
    [InlineData("""{"prompt":"x","seed":-2.2e-9223372036854775808}""", "invalid_type")] // an exponent at 64 bits' edge, no wrap-around
    [InlineData("""{"prompt":"x","seed":-2e9223372036854775807}""", "invalid_value")]
    [InlineData("""{"prompt":"x","seed":10e9223372036854775807}""", "invalid_value")]
    [InlineData("""{"prompt":"x","referenceImageBase64":"not base64!"}""", "invalid_base64")]
    [InlineData("""{"prompt":"x","referenceImageBase64":123}""", "invalid_type")]
    [InlineData("""{"prompt":"x","referenceImageBase64":"AAAA"}""", "unsupported_media_type")]
    [InlineData("""{"prompt":"x","referenceImageBase64":""}""", "invalid_value")]
    [InlineData("""{"prompt":"x","referenceImageBase64":"  "}""", "invalid_value")]
    [InlineData("""{"prompt":"x","referenceImageBase64":"data:image/png;base64,"}""", "invalid_value")]
    [InlineData("""{"prompt":"x","referenceImageBase64":null}""", "no error")]
    [InlineData("""{"prompt":"x","model":"Qwen/Qwen-Image","referenceImageBase64":null}""", "no error")] // no reference for a model without
    [InlineData("""{"prompt":"x","model":"nano-banana-2","referenceFileId":"file_00ff00ff00ff00ff00ff","referenceImageBase64":null}""", "no error")] // nor a second one
    public async Task Each_bad_field_has_its_error(string json, string expected)
    {
        Assert.Equal(expected, await ErrorOfAsync(json));
    }

    [Theory]
    [InlineData("1e3", 1000)]
    [InlineData("1E3", 1000)]
    [InlineData("12300e-2", 123)]
    [InlineData("4294967295.000", 4294967295)]
    [InlineData("-0.0", 0)]
    public async Task A_seed_spelled_as_a_fraction_or_exponent_reads_as_its_integer(string seed, long expected)
    {
        Assert.Equal(expected, (await ValidateAsync($$"""{"prompt":"x","seed":{{seed}}}""")).Input!.Seed);
    }

    [Fact]
    public async Task An_error_quotes_a_huge_value_cut_short()
    {
        var error = (await ValidateAsync(JsonSerializer.Serialize(new { prompt = "x", style = new string('x', 100_000) }))).Error!;

        Assert.Equal("invalid_value", error.Error);
        Assert.True(error.Message.Length < 400, $"{error.Message.Length} characters");
        Assert.Contains("(100000 characters)", error.Message);
    }

    [Fact]
    public async Task Prompt_of_4000_characters_passes_and_4001_does_not()
    {
        Assert.Equal("no error", await ErrorOfAsync(JsonSerializer.Serialize(new { prompt = new string('a', 4000) })));
        Assert.Equal("prompt_too_long", await ErrorOfAsync(JsonSerializer.Serialize(new { prompt = new string('a', 4001) })));
    }

    [Fact]
    public async Task Prompt_length_counts_characters_not_utf16_units()
    {
        Assert.Equal("no error", await ErrorOfAsync(JsonSerializer.Serialize(new { prompt = string.Concat(Enumerable.Repeat("😀", 4000)) })));
    }

    [Fact]
    public async Task Resolution_passes_for_nano_banana_models()
    {
        Assert.Equal("4K", (await ValidateAsync("""{"prompt":"x","model":"nano-banana-2","resolution":"4K"}""")).Input!.Resolution);
    }

    [Fact]
    public async Task Reference_image_is_decoded_and_its_type_detected_or_checked()
    {
        var base64 = Convert.ToBase64String(TinyPng);

        var detected = (await ValidateAsync($$"""{"prompt":"x","referenceImageBase64":"{{base64}}"}""")).Input!;
        var declared = (await ValidateAsync($$"""{"prompt":"x","referenceImageBase64":"{{base64}}","referenceImageMime":"image/PNG"}""")).Input!;
        var dataUrl = (await ValidateAsync($$"""{"prompt":"x","referenceImageBase64":"data:image/png;base64,{{base64}}"}""")).Input!;

        Assert.Equal(TinyPng, detected.ReferenceImage);
        Assert.Equal(new ImageInfo("image/png", 1, 1), detected.ReferenceInfo);
        Assert.Equal((detected.ReferenceInfo, detected.ReferenceInfo), (declared.ReferenceInfo, dataUrl.ReferenceInfo));
    }

    [Theory]
    [InlineData("")]
    [InlineData("data:image/png;base64,")]
    public async Task A_reference_escaped_in_its_JSON_and_broken_into_lines_decodes_to_its_bytes(string prefix)
    {
        var image = TestImages.Encode(40, 40); // Base64 past 76 characters: broken into lines
        // Every kind of whitespace Base64 may carry, written as JSON escapes (\r\n, \t) by the serializer; a PHP client
        // escapes '/' too (\/), here in the data URL's type as well.
        var lines = Convert.ToBase64String(image, Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", " \t\r\n");
        var json = JsonSerializer.Serialize(new { prompt = "x", referenceImageBase64 = prefix + lines }).Replace("/", "\\/");
        Assert.Contains("\\r\\n", json);

        var (input, error) = await ValidateAsync(json);

        Assert.Null(error);
        Assert.Equal(image, input!.ReferenceImage);
    }

    [Theory]
    [InlineData("a space between the two '='")]
    [InlineData("a line break between the two '='")]
    [InlineData("a space after every character")]
    public async Task A_reference_whose_padding_whitespace_splits_decodes_to_its_bytes(string spacing)
    {
        // An image whose length leaves one byte over three, so that its Base64 ends in "==".
        var image = Enumerable.Range(8, 40).Select(side => TestImages.Encode(side, side)).First(bytes => bytes.Length % 3 == 1);
        var base64 = Convert.ToBase64String(image);
        Assert.EndsWith("==", base64);
        var spaced = spacing switch
        {
            "a space between the two '='" => base64[..^1] + " =",
            "a line break between the two '='" => base64[..^1] + "\n=",
            _ => string.Join(' ', base64.ToCharArray()),
        };

        var (input, error) = await ValidateAsync(JsonSerializer.Serialize(new { prompt = "x", referenceImageBase64 = spaced }));

        Assert.Null(error);
        Assert.Equal(image, input!.ReferenceImage);
    }

    [Theory]
    [InlineData("DATA:image/png;BASE64,", "no error")] // a URL scheme and its ";base64" are read in any case
    [InlineData("data:image/png;base64", "invalid_base64")] // no comma before the payload
    [InlineData("data:image/png,", "invalid_base64")] // a payload that is not Base64
    [InlineData("data:text/html;base64,", "unsupported_media_type")]
    [InlineData("data:image/jpeg;base64,", "media_type_mismatch")]
    public async Task A_data_url_is_read_for_its_type_and_its_Base64_payload(string prefix, string expected)
    {
        Assert.Equal(expected, await ErrorOfAsync($$"""{"prompt":"x","referenceImageBase64":"{{prefix}}{{Convert.ToBase64String(TinyPng)}}"}"""));
    }

    [Theory]
    [InlineData("data:image/jpeg;base64,", "image/png", "no error")]
    [InlineData("data:image/png;base64,", "image/jpeg", "media_type_mismatch")]
    public async Task ReferenceImageMime_wins_over_a_data_urls_own_type(string prefix, string mime, string expected)
    {
        Assert.Equal(expected, await ErrorOfAsync(
            $$"""{"prompt":"x","referenceImageBase64":"{{prefix}}{{Convert.ToBase64String(TinyPng)}}","referenceImageMime":"{{mime}}"}"""));
    }

    [Fact]
    public async Task Reference_image_type_must_be_accepted_and_match_the_bytes()
    {
        var base64 = Convert.ToBase64String(TinyPng);
        Assert.Equal("media_type_mismatch", await ErrorOfAsync($$"""{"prompt":"x","referenceImageBase64":"{{base64}}","referenceImageMime":"image/jpeg"}"""));
        Assert.Equal("unsupported_media_type", await ErrorOfAsync($$"""{"prompt":"x","referenceImageBase64":"{{base64}}","referenceImageMime":"image/gif"}"""));
    }

    [Fact]
    public async Task A_reference_that_only_looks_like_an_image_is_refused_for_what_it_is()
    {
        static Task<string> Of(byte[] bytes) => ErrorOfAsync(JsonSerializer.Serialize(new { prompt = "x", referenceImageBase64 = Convert.ToBase64String(bytes) }));
        var jpeg = TestImages.Encode(40, 30, SkiaSharp.SKEncodedImageFormat.Jpeg);

        Assert.Equal("invalid_image", await Of(TestImages.PngSignatureThenGarbage()));
        Assert.Equal("invalid_image", await Of(jpeg[..(jpeg.Length / 2)]));
        Assert.Equal("reference_image_too_large", await Of(TestImages.PngDeclaring(100_000, 100_000)));
        Assert.Equal("unsupported_media_type", await Of(TestImages.Gif));
    }

    [Fact]
    public async Task Whitespace_in_the_Base64_does_not_count_toward_the_10_MiB()
    {
        // A reference of exactly 10 MiB (its first bytes a PNG's, so it gets past the size to the image check), in 76-character lines.
        var atLimit = new byte[GenerateImageValidator.MaxReferenceBytes];
        TinyPng.CopyTo(atLimit, 0);
        var lines = Convert.ToBase64String(atLimit, Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", " \t\r\n"); // every kind of whitespace Base64 may carry

        Assert.Equal("invalid_image", await ErrorOfAsync(JsonSerializer.Serialize(new { prompt = "x", referenceImageBase64 = lines }))); // read, then refused as no PNG
        Assert.Equal("reference_image_too_large", await ErrorOfAsync(JsonSerializer.Serialize(new { prompt = "x", referenceImageBase64 = lines + "AAAA" })));
    }

    [Fact]
    public async Task Reference_image_over_10_MiB_is_refused()
    {
        var big = new byte[GenerateImageValidator.MaxReferenceBytes + 1];
        TinyPng.CopyTo(big, 0);
        Assert.Equal("reference_image_too_large", await ErrorOfAsync(JsonSerializer.Serialize(new { prompt = "x", referenceImageBase64 = Convert.ToBase64String(big) })));
    }
}
