using Functions.Generation;
using Functions.Tests.Infrastructure;

namespace Functions.Tests.Unit;

public sealed class PngEncoderTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(320, 200)]
    public void Encoded_png_has_valid_chunks_dimensions_and_data(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        new Random(width * height).NextBytes(pixels);

        var info = PngChecker.Check(PngEncoder.EncodeRgb(pixels, width, height));

        Assert.Equal((width, height), (info.Width, info.Height));
        Assert.Equal(["IHDR", "IDAT", "IEND"], info.Chunks);
    }

    [Fact]
    public void Pixel_buffer_of_the_wrong_size_is_refused()
    {
        Assert.Throws<ArgumentException>(() => PngEncoder.EncodeRgb(new byte[10], 2, 2));
    }

    [Fact]
    public void Crc32_matches_the_reference_check_value()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
    }
}
