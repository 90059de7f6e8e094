using Functions.Generation;

namespace Functions.Tests.Unit;

public sealed class ImageFormatsTests
{
    [Theory]
    [InlineData("image/JPG", "image/jpeg")]
    [InlineData(" image/png; charset=x", "image/png")]
    [InlineData("image/pjpeg", "image/jpeg")] // progressive JPEG, as older browsers declare it
    [InlineData("image/x-png", "image/png")] // PNG's name before its registration, still sent by older servers (was: an upstream's image refused)
    public void Normalizes_declared_types(string declared, string expected)
    {
        Assert.Equal(expected, ImageFormats.Normalize(declared));
    }
}
