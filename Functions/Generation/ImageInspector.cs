using SkiaSharp;

namespace Functions.Generation;

/// <summary>What an image is, by its codec: media type and pixel size.</summary>
public sealed record ImageInfo(string ContentType, int Width, int Height)
{
    /// <summary>The file metadata every stored image carries: its kind (upload, reference, generated) and its size.</summary>
    public Dictionary<string, string> Meta(string kind) => new()
    {
        [Files.FileKinds.MetadataKey] = kind, [Files.FileStore.WidthKey] = Width.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [Files.FileStore.HeightKey] = Height.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>Why bytes were refused as an image; each surface turns it into its own status and error.</summary>
public enum ImageProblem { None, NotAnImage, UnsupportedType, TooLarge, Undecodable }

/// <summary>The outcome of <see cref="ImageInspector.InspectAsync"/>: the image, or the problem and a sentence for the client.</summary>
public readonly record struct ImageCheck(ImageInfo? Image, ImageProblem Problem, string Message)
{
    public static ImageCheck Refused(ImageProblem problem, string message) => new(null, problem, message);
}

/// <summary>
/// The one check of image bytes, with SkiaSharp's codecs: the signature first (bytes that begin as no format those
/// codecs read are no image), then the header (type and size, no pixels), refusing a type not accepted, a size over the
/// bounds or a JPEG too short for its size before any pixel memory is taken, then a full decode within the process's
/// <see cref="DecodeBudget"/>, so that only images that really decode are stored. Type and size always come from the
/// codec, never from what a client declared.
/// </summary>
public sealed class ImageInspector(DecodeBudget budget)
{
    public const int MaxSide = 16_384;
    public const long MaxPixels = 50_000_000;

    /// <summary>The bitmap every full decode fills: 8 bits a channel (a 16-bit PNG would take twice that).</summary>
    const int BitmapBytesPerPixel = 4;

    /// <summary>
    /// The most a decode of an accepted image holds: the largest one's bitmap and beside it 8 bytes a pixel, a 16-bit RGBA
    /// interlaced PNG's rows or a 4-component progressive JPEG's coefficients (600 MB); a JPEG of more components is refused.
    /// </summary>
    public const long MaxDecodeBytes = MaxPixels * (BitmapBytesPerPixel + 8);

    /// <summary>Type and size from the header alone; null when no codec recognizes the bytes.</summary>
    public static ImageInfo? ReadHeader(ReadOnlySpan<byte> bytes)
    {
        using var codec = Open(bytes, out _);
        return codec is null ? null : InfoOf(codec);
    }

    /// <summary>
    /// The image, or why it is refused. Throws <see cref="BudgetBusyException"/> when the decode budget has no room for
    /// it within a bounded wait (a refused header never waits).
    /// </summary>
    public async Task<ImageCheck> InspectAsync(ReadOnlyMemory<byte> bytes, IReadOnlyCollection<string> accepted, DecodeWait wait,
        CancellationToken cancellationToken)
    {
        var header = CheckHeader(bytes.Span, accepted);
        if (header.Image is not { } info) return header;
        var held = DecodeBytes(bytes.Span, info);
        if (held > MaxDecodeBytes)
            return ImageCheck.Refused(ImageProblem.TooLarge, $"The image is {info.Width} x {info.Height} pixels and its decode would hold " +
                $"{held / 1_000_000} MB; the limit is {MaxDecodeBytes / 1_000_000} MB.");
        // The header's codec, and its copy of the bytes, is let go while this waits; the decode opens its own.
        using var share = await budget.AcquireAsync(info, held, wait, cancellationToken);
        return Decode(bytes.Span, info);
    }

    /// <summary>
    /// Everything the header alone tells: recognized, accepted, within the bounds, and (JPEG) not far too short. Worded
    /// for a client's upload and an upstream's image alike.
    /// </summary>
    static ImageCheck CheckHeader(ReadOnlySpan<byte> bytes, IReadOnlyCollection<string> accepted)
    {
        var kinds = string.Join(", ", accepted.Select(ImageFormats.ExtensionOf));
        if (FormatOfSignature(bytes) is not { } format)
            return ImageCheck.Refused(ImageProblem.NotAnImage, $"The bytes are not a recognized image (accepted: {kinds}).");
        // libpng will not open a PNG over 1,000,000 pixels a side, so the rules read a PNG's IHDR before the codec does.
        if (format == SKEncodedImageFormat.Png && PngHeaderOf(bytes) is { } png
            && Unacceptable(ImageFormats.Png, png.Width, png.Height, accepted, kinds) is { } refusedPng)
            return refusedPng;
        using var codec = Open(bytes, out var opened);
        if (codec is null)
            return ImageCheck.Refused(ImageProblem.Undecodable,
                $"The bytes look like an image but its header does not decode ({opened}); a whole image is accepted ({kinds}).");

        var info = InfoOf(codec);
        if (Unacceptable(info.ContentType, info.Width, info.Height, accepted, kinds) is { } refused) return refused;

        if (info.ContentType == ImageFormats.Jpeg && JpegTooShortFor(bytes, info))
            return ImageCheck.Refused(ImageProblem.Undecodable, $"The image/jpeg image is truncated: {bytes.Length} bytes cannot hold " +
                $"{info.Width} x {info.Height} pixels.");
        return new ImageCheck(info, ImageProblem.None, "");
    }

    /// <summary>A type not accepted, or a size over the bounds; null when neither.</summary>
    static ImageCheck? Unacceptable(string contentType, long width, long height, IReadOnlyCollection<string> accepted, string kinds)
    {
        if (!accepted.Contains(contentType))
            return ImageCheck.Refused(ImageProblem.UnsupportedType, $"The image is {contentType}; accepted: {kinds}.");
        if (width > MaxSide || height > MaxSide || width * height > MaxPixels)
            return ImageCheck.Refused(ImageProblem.TooLarge, $"The image is {width} x {height} pixels; the limit is " +
                $"{MaxSide} pixels a side and {MaxPixels / 1_000_000} megapixels.");
        return null;
    }

    /// <summary>
    /// The memory a full decode holds, from the header: its bitmap, and the whole image a codec keeps beside it until its
    /// last pass (an interlaced PNG's rows, a progressive JPEG's coefficients), up to twice the bitmap again.
    /// </summary>
    public static long DecodeBytes(ReadOnlySpan<byte> bytes, ImageInfo info) =>
        (long)info.Width * info.Height * BitmapBytesPerPixel + info.ContentType switch
        {
            ImageFormats.Png => PngInterlacedRowBytes(bytes),
            ImageFormats.Jpeg => JpegCoefficientBytes(bytes),
            _ => 0,
        };

    /// <summary>The fields of a PNG's IHDR chunk, which libpng requires first; null when the bytes do not begin so.</summary>
    static (long Width, long Height, byte BitDepth, byte ColourType, bool Interlaced)? PngHeaderOf(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 29 && bytes[12..16].SequenceEqual("IHDR"u8)
            ? (System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]),
                System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[20..]), bytes[24], bytes[25], bytes[28] == 1)
            : null;

    /// <summary>
    /// An Adam7-interlaced PNG is read whole into rows of its own format before one pixel is put out: its samples a pixel
    /// (grey and truecolour counted with the alpha a tRNS chunk adds) at 1 byte, or 2 at 16 bits.
    /// </summary>
    static long PngInterlacedRowBytes(ReadOnlySpan<byte> bytes) => PngHeaderOf(bytes) is { Interlaced: true } png
        ? png.Width * png.Height * (png.ColourType == 3 ? 1 : png.ColourType is 0 or 4 ? 2 : 4) * (png.BitDepth == 16 ? 2 : 1)
        : 0;

    /// <summary>
    /// A JPEG decoded in more than one pass (progressive, SOF2 or SOF10, or a first scan without every component) keeps
    /// every 8x8 block's 64 coefficients of 2 bytes until its last scan (libjpeg's whole-image buffer): 2 bytes a pixel
    /// for each component, at its sampling (a 4:2:0 image's two chroma components a quarter each).
    /// </summary>
    static long JpegCoefficientBytes(ReadOnlySpan<byte> bytes)
    {
        var (frame, at, scan) = JpegLayoutOf(bytes);
        if (at == -1 || at + 10 > bytes.Length) return 0;
        int components = bytes[at + 9], maxH = 1, maxV = 1;
        var multiPass = frame is 0xC2 or 0xC6 or 0xCA or 0xCE || (scan != -1 && scan + 4 < bytes.Length && bytes[scan + 4] < components);
        if (!multiPass || at + 10 + 3 * components > bytes.Length) return 0;
        var sampling = bytes.Slice(at + 10, 3 * components);
        for (var c = 0; c < components; c++) (maxH, maxV) = (Math.Max(maxH, sampling[3 * c + 1] >> 4), Math.Max(maxV, sampling[3 * c + 1] & 0xF));
        long pixels = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(bytes[(at + 5)..])
            * (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(bytes[(at + 7)..]), held = 0;
        for (var c = 0; c < components; c++)
            held += 2 * pixels * (sampling[3 * c + 1] >> 4) * (sampling[3 * c + 1] & 0xF) / (maxH * maxV);
        return held;
    }

    /// <summary>The full decode of an image whose header passed, and the check of what follows it.</summary>
    static ImageCheck Decode(ReadOnlySpan<byte> bytes, ImageInfo info)
    {
        using var codec = Open(bytes, out var opened);
        if (codec is null)
            return ImageCheck.Refused(ImageProblem.Undecodable, $"The {info.ContentType} image's header does not decode ({opened}).");
        // In native memory freed at once; what it and the codec hold is DecodeBytes.
        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888,
            codec.Info.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Premul);
        using var pixels = new SKBitmap(target);
        var decoded = pixels.GetPixels() == IntPtr.Zero ? SKCodecResult.InternalError : codec.GetPixels(target, pixels.GetPixels());
        if (decoded != SKCodecResult.Success)
            return ImageCheck.Refused(ImageProblem.Undecodable, $"The {info.ContentType} image is damaged or truncated: it does not decode ({decoded}).");
        if (info.ContentType == ImageFormats.Jpeg && !JpegHasEnd(bytes))
            return ImageCheck.Refused(ImageProblem.Undecodable, "The image/jpeg image is truncated: it has no end marker (EOI) after its image data.");
        return TrailingBytes(bytes, info.ContentType) switch
        {
            NoPngEnd => ImageCheck.Refused(ImageProblem.Undecodable,
                "The image/png image does not end with its IEND chunk: it is truncated, or other bytes stand where a chunk should be."),
            > 0 and var extra => ImageCheck.Refused(ImageProblem.Undecodable,
                $"The {info.ContentType} image is followed by {extra} bytes that are not part of it; send the image alone."),
            < 0 and var missing => ImageCheck.Refused(ImageProblem.Undecodable,
                $"The {info.ContentType} image is truncated: its header counts {-missing} bytes more than were sent."),
            _ => new ImageCheck(info, ImageProblem.None, ""),
        };
    }

    /// <summary>
    /// Bytes after a PNG's IEND chunk or past a WebP's RIFF size, which the codecs ignore: a file that is an image and
    /// something else would otherwise be stored and served as the image; a PNG whose chunks do not end in IEND counts
    /// as <see cref="NoPngEnd"/>. Negative: a WebP shorter than its RIFF size says. (A JPEG may carry other pictures after its end: see JpegHasEnd.)
    /// </summary>
    static long TrailingBytes(ReadOnlySpan<byte> bytes, string contentType)
    {
        if (contentType == ImageFormats.Webp && bytes.Length >= 12)
        {
            long riff = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
            return bytes.Length - (8 + riff + (riff & 1));
        }
        if (contentType != ImageFormats.Png) return 0;
        long at = 8; // the signature, then chunks of length, type, data and CRC, the last one IEND
        while (at + 12 <= bytes.Length)
        {
            long length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[(int)at..]);
            var type = bytes.Slice((int)at + 4, 4);
            at += 12 + length;
            if (type.SequenceEqual("IEND"u8)) return bytes.Length - at;
        }
        return NoPngEnd; // cut off, or other bytes where a chunk should be
    }

    /// <summary>What <see cref="TrailingBytes"/> says of a PNG whose chunks do not end in a whole IEND.</summary>
    const long NoPngEnd = long.MaxValue;

    /// <summary>
    /// Whether a Huffman-coded JPEG is too short for its header's size: each 8x8 block takes at least one bit, and the
    /// decoder fills a cut-off scan with grey without saying so (a 500-byte file could claim 7,000 x 7,000 pixels).
    /// Arithmetic coding (SOF9 to SOF15) has no such floor and is not judged.
    /// </summary>
    static bool JpegTooShortFor(ReadOnlySpan<byte> bytes, ImageInfo info) =>
        JpegLayoutOf(bytes).Frame is 0xC0 or 0xC1 or 0xC2 or 0xC3 or 0xC5 or 0xC6 or 0xC7
        && bytes.Length < (long)((info.Width + 7) / 8) * ((info.Height + 7) / 8) / 8;

    /// <summary>
    /// Whether a JPEG has an end marker (EOI) after its first scan. A progressive JPEG's decoder fills in scans that
    /// were cut off without saying so; an end marker is all there is to tell a whole file by. (The scans' coded data
    /// cannot hold one: a 0xFF there is followed by 0x00 or a restart marker.)
    /// </summary>
    static bool JpegHasEnd(ReadOnlySpan<byte> bytes) =>
        JpegLayoutOf(bytes).Scan is not -1 and var scan && bytes[scan..].IndexOf([(byte)0xFF, (byte)0xD9]) >= 0;

    /// <summary>The JPEG's frame marker (SOFn), where that segment and its first scan (SOS) begin, from the segments before it; -1 where none is found.</summary>
    static (int Frame, int FrameAt, int Scan) JpegLayoutOf(ReadOnlySpan<byte> bytes)
    {
        int frame = -1, frameAt = -1;
        for (var at = 2; at + 4 <= bytes.Length && bytes[at] == 0xFF; at += 2 + System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(bytes[(at + 2)..]))
        {
            while (at + 4 < bytes.Length && bytes[at + 1] == 0xFF) at++; // fill bytes may stand before any marker (T.81, B.1.1.2)
            var marker = bytes[at + 1];
            if (marker == 0xDA) return (frame, frameAt, at);
            if (frame == -1 && marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC) (frame, frameAt) = (marker, at);
        }
        return (frame, frameAt, -1);
    }

    /// <summary>
    /// The format that the bytes begin as, of those SkiaSharp's codecs read here, by the signature each codec looks for;
    /// null: no image. Whether bytes are an image at all is decided by this, not by the codec's answer, which differs
    /// between builds (SkiaSharp 4 answers IncompleteInput for fewer than 32 bytes of no image, 3.119 Unimplemented).
    /// A PNG cut off inside its signature still counts as one, as libpng compares only the bytes there are.
    /// </summary>
    public static SKEncodedImageFormat? FormatOfSignature(ReadOnlySpan<byte> bytes) => bytes switch
    {
        [0x89, ..] when PngSignature.StartsWith(bytes[..Math.Min(bytes.Length, PngSignature.Length)]) => SKEncodedImageFormat.Png,
        [0xFF, 0xD8, 0xFF, ..] => SKEncodedImageFormat.Jpeg,
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', (byte)'V', (byte)'P', ..]
            => SKEncodedImageFormat.Webp, // the RIFF container, then the first chunk: VP8, VP8L or VP8X
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => SKEncodedImageFormat.Gif,
        [(byte)'B', (byte)'M', ..] => SKEncodedImageFormat.Bmp,
        [0, 0, 1 or 2, 0, ..] => SKEncodedImageFormat.Ico, // or a cursor
        _ when IsWbmpHeader(bytes) => SKEncodedImageFormat.Wbmp,
        _ => null,
    };

    static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// WBMP has no magic number; its header is its signature: type 0, a fixed-header byte with only its extension bits
    /// (0x60) set, then a width and a height of 1 to 65,535.
    /// </summary>
    static bool IsWbmpHeader(ReadOnlySpan<byte> bytes)
    {
        if (bytes is not [0, var fixedHeader, ..] || (fixedHeader & 0x9F) != 0) return false;
        var at = 2;
        return MultiByteInteger(bytes, ref at) >= 1 && MultiByteInteger(bytes, ref at) >= 1;
    }

    /// <summary>A WBMP integer: 7 bits a byte, the high bit set on all but the last; -1 when cut off or past 65,535.</summary>
    static int MultiByteInteger(ReadOnlySpan<byte> bytes, ref int at)
    {
        for (var value = 0; at < bytes.Length && value <= ushort.MaxValue;)
        {
            var b = bytes[at++];
            value = (value << 7) | (b & 0x7F);
            if (b < 0x80) return value <= ushort.MaxValue ? value : -1;
        }
        return -1;
    }

    static SKCodec? Open(ReadOnlySpan<byte> bytes, out SKCodecResult result)
    {
        result = SKCodecResult.Unimplemented;
        if (bytes.IsEmpty) return null;
        using var data = SKData.CreateCopy(bytes);
        var stream = new SKMemoryStream(data);
        var codec = SKCodec.Create(stream, out result); // the codec owns the stream from here
        if (codec is null) stream.Dispose();
        return codec;
    }

    static ImageInfo InfoOf(SKCodec codec) => new(ContentTypeOf(codec.EncodedFormat), codec.Info.Width, codec.Info.Height);

    static string ContentTypeOf(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Png => ImageFormats.Png,
        SKEncodedImageFormat.Jpeg => ImageFormats.Jpeg,
        SKEncodedImageFormat.Webp => ImageFormats.Webp,
        SKEncodedImageFormat.Gif => ImageFormats.Gif,
        // Their registered types (IANA), not "image/ico" or "image/wbmp".
        SKEncodedImageFormat.Ico => "image/vnd.microsoft.icon",
        SKEncodedImageFormat.Wbmp => "image/vnd.wap.wbmp",
        _ => $"image/{format.ToString().ToLowerInvariant()}",
    };
}
