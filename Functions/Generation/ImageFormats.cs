using System.Buffers.Binary;

namespace Functions.Generation;

/// <summary>Tells an image's media type from its first bytes, so that a declared type can be checked against the content.</summary>
public static class ImageFormats
{
    public const string Png = "image/png";
    public const string Jpeg = "image/jpeg";
    public const string Webp = "image/webp";
    public const string Gif = "image/gif";

    /// <summary>The types accepted as reference images and uploads.</summary>
    public static readonly IReadOnlyList<string> Accepted = [Png, Jpeg, Webp];

    public static string? Detect(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])) return Png;
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return Jpeg;
        if (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes.Slice(8, 4).SequenceEqual("WEBP"u8)) return Webp;
        if (bytes.StartsWith("GIF87a"u8) || bytes.StartsWith("GIF89a"u8)) return Gif;
        return null;
    }

    /// <summary>Width and height from the image's header (PNG, JPEG, WebP, GIF); zeros when the header does not say.</summary>
    public static (int Width, int Height) SizeOf(ReadOnlySpan<byte> bytes)
    {
        switch (Detect(bytes))
        {
            case Png when bytes.Length >= 24:
                return (BinaryPrimitives.ReadInt32BigEndian(bytes[16..]), BinaryPrimitives.ReadInt32BigEndian(bytes[20..]));
            case Gif when bytes.Length >= 10:
                return (BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]), BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]));
            case Webp when bytes.Length >= 30:
                var chunk = bytes.Slice(12, 4);
                if (chunk.SequenceEqual("VP8 "u8)) return (BinaryPrimitives.ReadUInt16LittleEndian(bytes[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(bytes[28..]) & 0x3FFF);
                if (chunk.SequenceEqual("VP8L"u8))
                {
                    var bits = BinaryPrimitives.ReadUInt32LittleEndian(bytes[21..]);
                    return ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
                }
                if (chunk.SequenceEqual("VP8X"u8)) return (Read24(bytes[24..]) + 1, Read24(bytes[27..]) + 1);
                return (0, 0);
            case Jpeg:
                // Walk the segments to the first start-of-frame marker (C0 to CF, except C4, C8 and CC).
                for (var i = 2; i + 9 < bytes.Length && bytes[i] == 0xFF;)
                {
                    var marker = bytes[i + 1];
                    if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                        return (BinaryPrimitives.ReadUInt16BigEndian(bytes[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(bytes[(i + 5)..]));
                    i += 2 + BinaryPrimitives.ReadUInt16BigEndian(bytes[(i + 2)..]);
                }
                return (0, 0);
            default:
                return (0, 0);
        }
    }

    static int Read24(ReadOnlySpan<byte> b) => b[0] | b[1] << 8 | b[2] << 16;

    /// <summary>Normalizes a declared MIME type ("IMAGE/JPG; q=1" becomes "image/jpeg").</summary>
    public static string Normalize(string mime)
    {
        var type = mime.Split(';')[0].Trim().ToLowerInvariant();
        return type is "image/jpg" or "image/pjpeg" ? Jpeg : type;
    }

    public static string ExtensionOf(string contentType) => contentType switch
    {
        Png => "png",
        Jpeg => "jpg",
        Webp => "webp",
        Gif => "gif",
        _ => "bin",
    };
}
