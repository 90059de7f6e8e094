namespace Functions.Generation;

/// <summary>The image media types the app names, and how they are spelled; what bytes really are comes from <see cref="ImageInspector"/>.</summary>
public static class ImageFormats
{
    public const string Png = "image/png";
    public const string Jpeg = "image/jpeg";
    public const string Webp = "image/webp";
    public const string Gif = "image/gif";

    /// <summary>The types accepted as reference images and uploads.</summary>
    public static readonly IReadOnlyList<string> Accepted = [Png, Jpeg, Webp];

    /// <summary>The types kept from an upstream: the accepted ones, and GIF, which a URL may serve.</summary>
    public static readonly IReadOnlyList<string> FromUpstream = [Png, Jpeg, Webp, Gif];

    /// <summary>Normalizes a declared MIME type ("IMAGE/JPG; q=1" becomes "image/jpeg").</summary>
    public static string Normalize(string mime)
    {
        var type = mime.Split(';')[0].Trim().ToLowerInvariant();
        return type switch
        {
            "image/jpg" or "image/pjpeg" => Jpeg,
            "image/x-png" => Png, // PNG's name before its registration, which older servers still send
            _ => type,
        };
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
