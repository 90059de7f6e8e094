using Functions.Generation;

namespace Functions.Tests.Unit;

public sealed class ImageDimensionsTests
{
    [Theory]
    [InlineData("1:1", null, 1024, 1024)]
    [InlineData("16:9", "1K", 1024, 576)]
    [InlineData("9:16", "1K", 576, 1024)]
    [InlineData("4:3", "2K", 2048, 1536)]
    [InlineData("3:4", "4K", 3072, 4096)]
    [InlineData("2:3", null, 683, 1024)]
    [InlineData("3:2", "4K", 4096, 2731)]
    public void Aspect_ratio_and_resolution_give_the_long_side_and_the_ratio(string ratio, string? resolution, int width, int height)
    {
        Assert.Equal(new ImageDimensions(width, height), ImageDimensions.For(ratio, resolution));
    }

    [Fact]
    public void Every_contract_ratio_maps_to_a_size()
    {
        foreach (var ratio in ModelCatalog.AspectRatios)
            Assert.Equal(1024, Math.Max(ImageDimensions.For(ratio, null).Width, ImageDimensions.For(ratio, null).Height));
    }
}
