using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Functions.Generation;

/// <summary>Encodes 8-bit RGB pixels as a PNG with the framework's zlib; no image library restores in this build.</summary>
static class PngEncoder
{
    static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] EncodeRgb(ReadOnlySpan<byte> rgb, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "Dimensions must be positive.");
        var stride = width * 3;
        if (rgb.Length != stride * height) throw new ArgumentException("Pixel buffer does not match the dimensions.", nameof(rgb));

        var output = new MemoryStream(rgb.Length / 8 + 1024);
        output.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: truecolour
        header[10] = 0; // compression: deflate
        header[11] = 0; // filter method
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR", header);

        WriteChunk(output, "IDAT", Compress(rgb, stride, height));
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    // Each row gets the Sub filter: smooth gradients become small residuals that deflate well.
    static ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> rgb, int stride, int height)
    {
        var compressed = new MemoryStream(rgb.Length / 8 + 64);
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[stride + 1];
            row[0] = 1;
            for (var y = 0; y < height; y++)
            {
                var source = rgb.Slice(y * stride, stride);
                source[..3].CopyTo(row.AsSpan(1));
                for (var i = 3; i < stride; i++) row[i + 1] = (byte)(source[i] - source[i - 3]);
                zlib.Write(row);
            }
        }
        return compressed.GetBuffer().AsSpan(0, (int)compressed.Length);
    }

    static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);

        Span<byte> typeBytes = stackalloc byte[4];
        Encoding.ASCII.GetBytes(type, typeBytes);
        output.Write(typeBytes);
        output.Write(data);

        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Compute(data, Crc32.Compute(typeBytes)));
        output.Write(word);
    }
}
