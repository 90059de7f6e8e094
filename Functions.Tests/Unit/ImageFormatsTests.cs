using Functions.Generation;

namespace Functions.Tests.Unit;

public sealed class ImageFormatsTests
{
    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0 }, "image/png")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, "image/jpeg")]
    [InlineData(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 0, 0, 0, 0, (byte)'W', (byte)'E', (byte)'B', (byte)'P' }, "image/webp")]
    [InlineData(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' }, "image/gif")]
    [InlineData(new byte[] { 1, 2, 3 }, null)]
    public void Detects_the_type_from_the_first_bytes(byte[] bytes, string? expected)
    {
        Assert.Equal(expected, ImageFormats.Detect(bytes));
    }

    [Theory]
    [InlineData("image/JPG", "image/jpeg")]
    [InlineData(" image/png; charset=x", "image/png")]
    public void Normalizes_declared_types(string declared, string expected)
    {
        Assert.Equal(expected, ImageFormats.Normalize(declared));
    }
}
