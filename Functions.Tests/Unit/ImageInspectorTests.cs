using System.Diagnostics;
using Functions.Generation;
using SkiaSharp;

namespace Functions.Tests.Unit;

public sealed class ImageInspectorTests
{
    [Theory]
    [InlineData(SKEncodedImageFormat.Png, "image/png")]
    [InlineData(SKEncodedImageFormat.Jpeg, "image/jpeg")]
    [InlineData(SKEncodedImageFormat.Webp, "image/webp")]
    public async Task A_whole_image_gives_its_type_and_size_from_the_codec(SKEncodedImageFormat format, string type)
    {
        var check = await TestImages.Inspector.InspectAsync(TestImages.Encode(37, 21, format), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Equal(new ImageInfo(type, 37, 21), check.Image);
        Assert.Equal(ImageProblem.None, check.Problem);
    }

    [Theory]
    [InlineData(SKColorType.Gray8, SKAlphaType.Opaque)]
    [InlineData(SKColorType.RgbaF16, SKAlphaType.Premul)]
    [InlineData(SKColorType.Rgba8888, SKAlphaType.Unpremul)]
    public async Task Grey_16_bit_and_translucent_pngs_decode(SKColorType colorType, SKAlphaType alphaType)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(20, 10, colorType, alphaType));
        bitmap.Erase(new SKColor(10, 200, 30, 128));
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);

        Assert.Equal(new ImageInfo("image/png", 20, 10), (await TestImages.Inspector.InspectAsync(png.ToArray(), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None)).Image);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Webp)]
    public async Task An_image_followed_by_other_bytes_is_refused(SKEncodedImageFormat format)
    {
        var check = await TestImages.Inspector.InspectAsync((byte[])[.. TestImages.Encode(16, 16, format), .. "PK\u0003\u0004 a zip after the image"u8], ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Null(check.Image);
        Assert.Equal(ImageProblem.Undecodable, check.Problem);
        Assert.Contains("followed by 26 bytes", check.Message);
    }

    [Theory]
    [InlineData("PK\u0003\u0004 a zip where IEND was")]
    [InlineData("")] // cut off before IEND: truncated, not followed by anything
    public async Task A_png_whose_iend_was_replaced_by_other_bytes_or_cut_off_is_refused_as_without_its_end(string instead)
    {
        var png = TestImages.Encode(16, 16);
        byte[] withoutEnd = [.. png[..^12], .. System.Text.Encoding.ASCII.GetBytes(instead)];

        var check = await TestImages.Inspector.InspectAsync(withoutEnd, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Null(check.Image);
        Assert.Contains("does not end with its IEND chunk", check.Message);
    }

    [Fact]
    public async Task A_webp_shorter_than_its_riff_size_is_refused()
    {
        var webp = TestImages.Encode(16, 16, SKEncodedImageFormat.Webp);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(webp.AsSpan(4), (uint)webp.Length + 1000);

        var check = await TestImages.Inspector.InspectAsync(webp, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Null(check.Image);
        Assert.Contains("truncated", check.Message);
    }

    [Fact]
    public async Task The_png_signature_followed_by_garbage_is_not_an_image()
    {
        var check = await TestImages.Inspector.InspectAsync(TestImages.PngSignatureThenGarbage(), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Null(check.Image);
        Assert.Equal(ImageProblem.Undecodable, check.Problem);
        Assert.Null(ImageInspector.ReadHeader(TestImages.PngSignatureThenGarbage()));
    }

    public static TheoryData<string, byte[]> NoImageFormat => new()
    {
        { "a pdf's first line", "%PDF-1.7\n"u8.ToArray() },
        { "a zip's local header", [.. "PK\u0003\u0004"u8, 0x14, 0, 0, 0, 8, 0] },
        { "five bytes of text", "hello"u8.ToArray() },
        { "a sentence", "just some text, named .png"u8.ToArray() },
        { "a wav header", [.. "RIFF"u8, 0x24, 0, 0, 0, .. "WAVEfmt "u8] },
        { "gif's signature cut off before its version", "GIF"u8.ToArray() },
        { "a jpeg's start-of-image marker alone", [0xFF, 0xD8] },
        { "three zero bytes", [0, 0, 0] },
        { "a tiff header: the codecs here read neither TIFF nor camera raw", [.. "II*\0"u8, 8, 0, 0, 0, .. new byte[60]] },
    };

    /// <remarks>
    /// SkiaSharp 4's codecs answer IncompleteInput, not Unimplemented, for fewer than 32 bytes that none of them reads:
    /// a check that took that answer for its verdict would call all of these but the last damaged images.
    /// </remarks>
    [Theory]
    [MemberData(nameof(NoImageFormat))]
    public async Task Bytes_that_begin_as_no_image_format_are_no_image_whatever_the_codec_answers(string what, byte[] bytes)
    {
        var check = await TestImages.Inspector.InspectAsync(bytes, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.True(check.Problem == ImageProblem.NotAnImage, $"{what}: {check.Problem}, {check.Message}");
        Assert.Contains("not a recognized image", check.Message);
        Assert.Null(ImageInspector.FormatOfSignature(bytes));
    }

    public static TheoryData<string, byte[]> SignatureThenNoImage => new()
    {
        { "png", TestImages.PngSignatureThenGarbage() },
        { "png cut off inside its signature", TestImages.PngSignature[..5] },
        { "jpeg", TestImages.ThenGarbage(0xFF, 0xD8, 0xFF) },
        { "webp", TestImages.ThenGarbage([.. "RIFF"u8, 0x40, 0, 0, 0, .. "WEBPVP8 "u8]) },
        { "gif", TestImages.ThenGarbage([.. "GIF89a"u8]) },
        { "bmp", TestImages.ThenGarbage([.. "BM"u8]) },
        { "ico", TestImages.ThenGarbage(0, 0, 1, 0) },
    };

    [Theory]
    [MemberData(nameof(SignatureThenNoImage))]
    public async Task Bytes_that_begin_as_an_image_format_but_do_not_decode_are_damaged_images(string what, byte[] bytes)
    {
        var check = await TestImages.Inspector.InspectAsync(bytes, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.True(check.Problem == ImageProblem.Undecodable, $"{what}: {check.Problem}, {check.Message}");
        Assert.NotNull(ImageInspector.FormatOfSignature(bytes));
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Ico, "image/vnd.microsoft.icon")]
    [InlineData(SKEncodedImageFormat.Wbmp, "image/vnd.wap.wbmp")]
    [InlineData(SKEncodedImageFormat.Bmp, "image/bmp")]
    public async Task A_refused_format_is_named_by_its_registered_media_type(SKEncodedImageFormat format, string type)
    {
        var image = (byte[])ImageOfEachFormat.Single(row => (SKEncodedImageFormat)row[0] == format)[1];

        var check = await TestImages.Inspector.InspectAsync(image, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Equal(ImageProblem.UnsupportedType, check.Problem);
        Assert.Contains($"is {type};", check.Message);
    }

    public static TheoryData<SKEncodedImageFormat, byte[]> ImageOfEachFormat => new()
    {
        { SKEncodedImageFormat.Png, TestImages.Encode(3, 2) },
        { SKEncodedImageFormat.Jpeg, TestImages.Encode(3, 2, SKEncodedImageFormat.Jpeg) },
        { SKEncodedImageFormat.Webp, TestImages.Encode(3, 2, SKEncodedImageFormat.Webp) },
        { SKEncodedImageFormat.Gif, TestImages.Gif },
        { SKEncodedImageFormat.Bmp, Convert.FromBase64String("Qk06AAAAAAAAADYAAAAoAAAAAQAAAAEAAAABABgAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAMGCQAA==") }, // 1 x 1
        { SKEncodedImageFormat.Ico, Convert.FromBase64String("AAABAAEAAQEAAAEAGAAsAAAAFgAAACgAAAABAAAAAgAAAAEAGAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAwYJAA") },
        { SKEncodedImageFormat.Wbmp, [0, 0, 1, 1, 0x80] }, // 1 x 1, no magic number: the header is the signature
    };

    [Theory]
    [MemberData(nameof(ImageOfEachFormat))]
    public async Task Each_format_the_codecs_read_is_known_by_its_signature_and_typed_by_its_codec(SKEncodedImageFormat format, byte[] image)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(image));

        Assert.Equal(format, codec.EncodedFormat);
        Assert.Equal(format, ImageInspector.FormatOfSignature(image));
        var check = await TestImages.Inspector.InspectAsync(image, [], DecodeWait.Bounded, CancellationToken.None); // none accepted: each is an image of a type not taken
        Assert.Equal(ImageProblem.UnsupportedType, check.Problem);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    [InlineData(SKEncodedImageFormat.Webp)]
    public async Task A_truncated_image_whose_header_is_whole_does_not_decode(SKEncodedImageFormat format)
    {
        var whole = TestImages.Encode(64, 48, format);

        var check = await TestImages.Inspector.InspectAsync(whole[..(whole.Length * 2 / 3)], ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Equal(ImageProblem.Undecodable, check.Problem);
        Assert.Contains("does not decode", check.Message);
    }

    [Theory]
    [InlineData(0, 0xC0)]
    [InlineData(1, 0xC0)] // a fill byte before the first marker, which the decoder skips
    [InlineData(3, 0xC0)]
    [InlineData(0, 0xC1)] // extended sequential
    [InlineData(0, 0xC2)] // progressive: every Huffman-coded frame has the floor
    public async Task A_jpeg_whose_header_claims_far_more_pixels_than_its_bytes_can_hold_is_refused_before_decoding(int fillBytes, int startOfFrame)
    {
        var encoded = TestImages.Encode(64, 48, SKEncodedImageFormat.Jpeg);
        var jpeg = (byte[])[.. encoded[..2], .. Enumerable.Repeat((byte)0xFF, fillBytes), .. encoded[2..]];
        var sof = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        jpeg[sof + 1] = (byte)startOfFrame;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), 7000); // height, then width
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), 7000);

        var check = await TestImages.Inspector.InspectAsync(jpeg, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Equal(ImageProblem.Undecodable, check.Problem);
        Assert.Contains("cannot hold 7000 x 7000 pixels", check.Message);
    }

    [Theory]
    [InlineData(7_811, false)] // 2000 x 2000 pixels are 62,500 blocks of 8x8: at one bit each, 7,812 bytes at least
    [InlineData(7_812, true)]
    public async Task A_jpeg_is_refused_below_one_bit_per_8x8_block_of_its_header_size_and_taken_from_there(int length, bool taken)
    {
        var encoded = TestImages.Encode(64, 48, SKEncodedImageFormat.Jpeg);
        var sof = encoded.AsSpan().IndexOf([(byte)0xFF, (byte)0xC0]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(encoded.AsSpan(sof + 5), 2000); // height, then width
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(encoded.AsSpan(sof + 7), 2000);
        var jpeg = new byte[length]; // after its end, zeros: a JPEG's trailing bytes are not judged
        encoded.CopyTo(jpeg, 0);

        var check = await TestImages.Inspector.InspectAsync(jpeg, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.True(taken == check.Image is not null, check.Message);
        if (!taken) Assert.Contains("cannot hold 2000 x 2000 pixels", check.Message);
    }

    [Fact]
    public async Task A_progressive_jpeg_cut_short_is_refused_though_its_decoder_fills_in_the_missing_scans()
    {
        var whole = TestImages.ProgressiveJpeg;
        var cut = whole[..(whole.Length / 2 + whole.AsSpan(whole.Length / 2).IndexOf([(byte)0xFF, (byte)0xC4]))]; // before a table between two scans
        var endPutBack = (byte[])[.. cut, 0xFF, 0xD9];

        Assert.Equal(new ImageInfo("image/jpeg", 32, 24), (await TestImages.Inspector.InspectAsync(whole, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None)).Image);
        var check = await TestImages.Inspector.InspectAsync(cut, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);
        Assert.Equal(ImageProblem.Undecodable, check.Problem);
        Assert.Contains("truncated", check.Message);
        // What the end marker says is all a JPEG has to go by: put back, the cut scans decode as they are.
        var putBack = await TestImages.Inspector.InspectAsync(endPutBack, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);
        Assert.True(putBack.Image is not null, putBack.Message);
    }

    [Fact]
    public async Task A_large_jpeg_of_one_colour_is_not_taken_for_a_truncated_one()
    {
        using var bitmap = new SKBitmap(4000, 3000);
        bitmap.Erase(SKColors.SteelBlue);
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 10);

        Assert.Equal(new ImageInfo("image/jpeg", 4000, 3000), (await TestImages.Inspector.InspectAsync(jpeg.ToArray(), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None)).Image);
    }

    [Fact]
    public async Task A_png_declaring_100000_pixels_a_side_is_refused_from_its_header_without_allocating_its_pixels()
    {
        var bomb = TestImages.PngDeclaring(100_000, 100_000);
        Assert.Equal(new ImageInfo("image/png", 100_000, 100_000), ImageInspector.ReadHeader(bomb)); // the header is well-formed
        var processBefore = Process.GetCurrentProcess().PrivateMemorySize64;
        var managedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();

        var check = await TestImages.Inspector.InspectAsync(bomb, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.True(clock.ElapsedMilliseconds < 500, $"took {clock.ElapsedMilliseconds} ms");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - managedBefore < 1024 * 1024);
        Assert.True(Process.GetCurrentProcess().PrivateMemorySize64 - processBefore < 64L * 1024 * 1024, "native memory grew by its pixels");
        Assert.Equal(ImageProblem.TooLarge, check.Problem);
        Assert.Contains("100000 x 100000", check.Message);
    }

    [Theory]
    [InlineData(16_385, 1)]      // one pixel over a side
    [InlineData(1, 16_385)]      // the other side
    [InlineData(8_000, 8_000)]   // 64 megapixels with both sides within bounds
    [InlineData(3_561, 14_041)]  // 50,000,001 pixels: one over
    public async Task Sides_over_16384_or_more_than_50_megapixels_are_too_large(int width, int height)
    {
        Assert.Equal(ImageProblem.TooLarge, (await TestImages.Inspector.InspectAsync(TestImages.PngDeclaring(width, height), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None)).Problem);
    }

    [Theory]
    [InlineData(1_000_001, 1)]       // over libpng's own limit of 1,000,000 a side, where it will not open the header
    [InlineData(int.MaxValue, 1)]
    [InlineData(1, 1_000_001)]
    public async Task A_png_wider_than_libpng_opens_is_too_large_not_undecodable(int width, int height)
    {
        var check = await TestImages.Inspector.InspectAsync(TestImages.PngDeclaring(width, height), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Equal(ImageProblem.TooLarge, check.Problem);
        Assert.Contains($"{width} x {height}", check.Message);
    }

    [Theory]
    [InlineData(16, true, 4 + 8)]  // the interlaced rows at 16 bits RGBA beside the bitmap
    [InlineData(8, true, 4 + 4)]
    [InlineData(16, false, 4)]     // read a row at a time into the bitmap
    [InlineData(8, false, 4)]
    public async Task A_png_decode_is_charged_its_bitmap_and_the_interlaced_rows_its_codec_holds(int bitDepth, bool interlaced, int bytesPerPixel)
    {
        var png = TestImages.RgbaPng(40, 30, bitDepth, interlaced);

        var check = await TestImages.Inspector.InspectAsync(png, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);

        Assert.Equal(new ImageInfo(ImageFormats.Png, 40, 30), check.Image); // a real image
        Assert.Equal(40 * 30 * bytesPerPixel, ImageInspector.DecodeBytes(png, check.Image!));
    }

    [Fact]
    public void A_progressive_jpeg_decode_is_charged_its_coefficients_2_bytes_a_pixel_a_component_at_its_sampling()
    {
        var baseline = TestImages.Encode(32, 24, SKEncodedImageFormat.Jpeg);
        var info = new ImageInfo(ImageFormats.Jpeg, 32, 24);

        Assert.Equal(32 * 24 * 4, ImageInspector.DecodeBytes(baseline, info));
        // 4:2:0: luma at every pixel, the two chroma components at a quarter of them.
        Assert.Equal(32 * 24 * 4 + 2 * (32 * 24 + 2 * (32 * 24 / 4)), ImageInspector.DecodeBytes(TestImages.ProgressiveJpeg, info));
    }

    [Theory]
    [InlineData(16_384, 3_051)]  // a side at its bound, just under 50 megapixels
    [InlineData(3_051, 16_384)]
    [InlineData(10_000, 5_000)]  // 50 megapixels exactly
    public async Task An_image_at_the_bounds_is_not_refused_for_its_size(int width, int height)
    {
        // The crafted IDAT is empty, so it fails later, at decoding.
        Assert.Equal(ImageProblem.Undecodable, (await TestImages.Inspector.InspectAsync(TestImages.PngDeclaring(width, height), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None)).Problem);
    }

    [Fact]
    public async Task A_gif_is_an_image_of_a_type_not_accepted_and_text_is_no_image()
    {
        var gif = await TestImages.Inspector.InspectAsync(TestImages.Gif, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None);
        Assert.Equal(ImageProblem.UnsupportedType, gif.Problem);
        Assert.Contains("image/gif", gif.Message);

        Assert.Equal(ImageProblem.NotAnImage, (await TestImages.Inspector.InspectAsync("%PDF-1.7 hello"u8.ToArray(), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None)).Problem);
        Assert.Equal(ImageProblem.NotAnImage, (await TestImages.Inspector.InspectAsync(Array.Empty<byte>(), ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None)).Problem);
        Assert.Equal("image/gif", (await TestImages.Inspector.InspectAsync(TestImages.Gif, ImageFormats.FromUpstream, DecodeWait.Bounded, CancellationToken.None)).Image!.ContentType);
    }
}
