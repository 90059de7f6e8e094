using Functions.Generation;

namespace Functions.Tests.Unit;

public sealed class ImageFormatsTests
{
    [Theory]
    [InlineData("image/JPG", "image/jpeg")]
    [InlineData(" image/png; charset=x", "image/png")]
    [InlineData("image/pjpeg", "image/jpeg")] // progressive JPEG, as older browsers declare it
    public void Normalizes_declared_types(string declared, string expected)
    {
        Assert.Equal(expected, ImageFormats.Normalize(declared));
    }
}
