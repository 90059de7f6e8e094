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
