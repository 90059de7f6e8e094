using Functions.Generation;
using Functions.Tests.Infrastructure;

namespace Functions.Tests.Unit;

public sealed class OfflineRendererTests
{
    static Task<GeneratedImage> RenderAsync(string prompt = "a red fox", string style = "realistic", string model = "grok",
        long? seed = null, string ratio = "1:1", string? resolution = null, byte[]? reference = null) =>
        Task.FromResult(OfflineRenderer.Render(new ProviderRequest(new GenerationRequest(prompt, style, ratio, model, resolution, false, seed, null),
            ImageDimensions.For(ratio, resolution), reference)));

    [Fact]
    public async Task Same_inputs_render_the_same_bytes()
    {
        Assert.Equal((await RenderAsync()).Bytes, (await RenderAsync()).Bytes);
    }

    [Fact]
    public async Task Prompt_style_model_seed_and_reference_each_change_the_image()
    {
        var baseline = (await RenderAsync()).Bytes;
        Assert.NotEqual(baseline, (await RenderAsync(prompt: "a blue fox")).Bytes);
        Assert.NotEqual(baseline, (await RenderAsync(style: "anime")).Bytes);
        Assert.NotEqual(baseline, (await RenderAsync(model: "meta")).Bytes);
        Assert.NotEqual(baseline, (await RenderAsync(seed: 7)).Bytes);
        Assert.NotEqual(baseline, (await RenderAsync(reference: [1, 2, 3])).Bytes);
    }

    [Theory]
    [InlineData("16:9", null, 1024, 576)]
    [InlineData("2:3", "2K", 1365, 2048)]
    public async Task Renders_a_valid_png_of_the_requested_size(string ratio, string? resolution, int width, int height)
    {
        var image = await RenderAsync(ratio: ratio, resolution: resolution, model: "nano-banana-pro");

        var info = PngChecker.Check(image.Bytes);
        Assert.Equal((width, height), (info.Width, info.Height));
        Assert.Equal(ImageFormats.Png, image.ContentType);
        Assert.StartsWith("offline://renderer/", image.Debug.RequestUrl);
        Assert.Equal(200, image.Debug.ResponseStatus);
        Assert.False(image.Debug.UsedFallback);
    }
}
