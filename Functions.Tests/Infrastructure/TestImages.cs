using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using SkiaSharp;

namespace Functions.Tests.Infrastructure;

/// <summary>Images for tests: real ones of any size and type (encoded by SkiaSharp), and crafted headers.</summary>
public static class TestImages
{
    public static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>A 1 x 1 GIF, a type the codecs read that uploads and references do not accept.</summary>
    /// <summary>A 32 x 24 progressive JPEG (SOF2, ten scans; libjpeg-turbo's cjpeg -progressive): SkiaSharp encodes baseline only.</summary>
    public static readonly byte[] ProgressiveJpeg = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAUDBAQEAwUEBAQFBQUGBwwIBwcHBw8LCwkMEQ8SEhEPERETFhwXExQaFRERGCEYGh0dHx8fExciJCIeJBweHx7/" +
        "2wBDAQUFBQcGBw4ICA4eFBEUHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh7/wgARCAAYACADASIAAhEBAxEB/8QA" +
        "GAAAAwEBAAAAAAAAAAAAAAAAAAQFAwf/xAAXAQADAQAAAAAAAAAAAAAAAAAEBQYH/9oADAMBAAIQAxAAAAHn71dugElUKzya0wfBbj774LLP/8QAGRAAAwEB" +
        "AQAAAAAAAAAAAAAAAAEDAhEE/9oACAEBAAEFApeczLKJybMRYpcxLz8WItk4Ch15j14iYif/xAAaEQACAwEBAAAAAAAAAAAAAAAABAECAyFB/9oACAEDAQE/" +
        "AUHvZkRfENrcEdrH/8QAJREAAQMCAwkAAAAAAAAAAAAAAQIDEQAEQVHwBRIhQnGRobGy/9oACAECAQE/AbraJRDTUTEknCnb9R5j68Dj3Iq4dVvK6/KZFOOK" +
        "J1lOssK//8QAIBAAAgEDBAMAAAAAAAAAAAAAAAECEiFREBExYXGBsf/aAAgBAQAGPwI4LQL0rSqRhFo+2RR0jdrwjL+H/8QAGxAAAwEBAAMAAAAAAAAAAAAA" +
        "AAERITEQUZH/2gAIAQEAAT8hQ1Wj2DwCnwEzBUAU1mrqIOBi7tHWUUNdSR8H/9oADAMBAAIAAwAAABDbcB//xAAYEQADAQEAAAAAAAAAAAAAAAAAESEB8P/a" +
        "AAgBAwEBPxB6BlKK126S3mf/xAAbEQEAAgMBAQAAAAAAAAAAAAABESEAQWFRMf/aAAgBAgEBPxBQHAAzYE3qR6FToO4xm5U9gB5NpvI4syk9W99Zo0Pgbz//" +
        "xAAfEAEAAgEEAwEAAAAAAAAAAAABABEhMUFRoWFxgcH/2gAIAQEAAT8QIdGUZVeogVJykIPpFzBc04gSzehAvjsZZRBItpKCxj+4YyfWz7Y7fUBZf//Z");

    public static readonly byte[] Gif = Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==");

    /// <summary>An image check with the app's default decode budget, for tests of the rules rather than of the budget.</summary>
    public static readonly Functions.Generation.ImageInspector Inspector =
        new(new Functions.Generation.DecodeBudget(Microsoft.Extensions.Options.Options.Create(new Functions.Generation.GenerationOptions())));

    /// <summary>A small gradient, encoded as <paramref name="format"/>.</summary>
    public static byte[] Encode(int width, int height, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), 128));
        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }

    public static byte[] Png(int width, int height) => Encode(width, height);

    /// <summary>
    /// A well-formed PNG whose header declares <paramref name="width"/> x <paramref name="height"/> (every chunk's CRC
    /// right), with one tiny IDAT: a decoder that trusted the header would ask for width x height x 4 bytes.
    /// </summary>
    public static byte[] PngDeclaring(int width, int height)
    {
        var output = new MemoryStream();
        output.Write(PngSignature);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // truecolour
        Chunk(output, "IHDR", header);
        Chunk(output, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]); // an empty zlib stream
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>
    /// A real RGBA PNG of zeros at 8 or 16 bits, Adam7-interlaced or not (SkiaSharp encodes neither 16 bits nor interlacing):
    /// each pass's rows, a filter byte then its pixels.
    /// </summary>
    public static byte[] RgbaPng(int width, int height, int bitDepth, bool interlaced)
    {
        var bytesPerPixel = 4 * bitDepth / 8;
        (int X, int Y, int Dx, int Dy)[] passes = interlaced
            ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            : [(0, 0, 1, 1)];
        long raw = passes.Sum(p => (width - p.X + p.Dx - 1) / p.Dx is var w and > 0 ? (long)((height - p.Y + p.Dy - 1) / p.Dy) * (1 + w * bytesPerPixel) : 0);
        var idat = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            for (var zeros = new byte[64 * 1024]; raw > 0; raw -= zeros.Length) zlib.Write(zeros, 0, (int)Math.Min(raw, zeros.Length));
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        (header[8], header[9], header[12]) = ((byte)bitDepth, 6, (byte)(interlaced ? 1 : 0)); // depth, RGBA, interlace method
        var output = new MemoryStream();
        output.Write(PngSignature);
        Chunk(output, "IHDR", header);
        Chunk(output, "IDAT", idat.ToArray());
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>
    /// A real 4 x 3 PNG of exactly <paramref name="length"/> bytes: before its IEND, a private ancillary chunk of zeros,
    /// which decoders skip (at least 100 bytes).
    /// </summary>
    public static byte[] PngOfLength(int length)
    {
        var png = Png(4, 3);
        var output = new MemoryStream(length);
        output.Write(png, 0, png.Length - 12);
        Chunk(output, "ptSt", new byte[length - png.Length - 12]);
        output.Write(png, png.Length - 12, 12);
        return output.ToArray();
    }

    /// <summary>The PNG signature followed by bytes that are no PNG at all.</summary>
    public static byte[] PngSignatureThenGarbage() => ThenGarbage(PngSignature);

    /// <summary><paramref name="start"/> (a format's signature, say) followed by 300 bytes that are no image at all.</summary>
    public static byte[] ThenGarbage(params byte[] start) => [.. start, .. Enumerable.Range(0, 300).Select(i => (byte)(i * 37 + 11))];

    static void Chunk(Stream output, string type, byte[] data)
    {
        var word = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        output.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.HashToUInt32(typed));
        output.Write(word);
    }
}
