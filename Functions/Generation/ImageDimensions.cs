namespace Functions.Generation;

public readonly record struct ImageDimensions(int Width, int Height)
{
    /// <summary>
    /// Pixel size for an aspect ratio ("16:9") at a resolution ("1K" = 1024 px on the long side, "2K" 2048, "4K" 4096).
    /// </summary>
    public static ImageDimensions For(string aspectRatio, string? resolution)
    {
        var longSide = resolution switch { "2K" => 2048, "4K" => 4096, _ => 1024 };
        var parts = aspectRatio.Split(':');
        var (w, h) = (int.Parse(parts[0]), int.Parse(parts[1]));
        return w >= h
            ? new ImageDimensions(longSide, (int)Math.Round(longSide * (double)h / w))
            : new ImageDimensions((int)Math.Round(longSide * (double)w / h), longSide);
    }
}
