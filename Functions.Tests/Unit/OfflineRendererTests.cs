using Functions.Generation;

namespace Functions.Tests.Unit;

public sealed class OfflineRendererTests
{
    static GeneratedImage Render(string prompt = "a red fox", string style = "realistic", string model = "grok",
        long? seed = null, string ratio = "1:1", string? resolution = null, byte[]? reference = null, string contentType = ImageFormats.Png) =>
        OfflineRenderer.Render(new ProviderRequest(new GenerationRequest(prompt, style, ratio, model, resolution, false, seed, null),
            ImageDimensions.For(ratio, resolution), reference), contentType);

    [Theory]
    [InlineData("realistic", null)]
    [InlineData("sketch", null)]
    [InlineData("cartoon", 42L)]
    public void Same_prompt_and_seed_render_the_same_bytes(string style, long? seed)
    {
        Assert.Equal(Render(style: style, seed: seed).Bytes, Render(style: style, seed: seed).Bytes);
    }

    [Fact]
    public void Prompt_style_model_seed_and_reference_each_change_the_image()
    {
        var baseline = Render().Bytes;
        Assert.NotEqual(baseline, Render(prompt: "a blue fox").Bytes);
        Assert.NotEqual(baseline, Render(style: "anime").Bytes);
        Assert.NotEqual(baseline, Render(model: "meta").Bytes);
        Assert.NotEqual(baseline, Render(seed: 7).Bytes);
        Assert.NotEqual(baseline, Render(reference: [1, 2, 3]).Bytes);
    }

    [Theory]
    [InlineData("16:9", null, 1024, 576)]
    [InlineData("2:3", "2K", 1365, 2048)]
    public void Renders_a_valid_png_of_the_requested_size(string ratio, string? resolution, int width, int height)
    {
        var image = Render(ratio: ratio, resolution: resolution, model: "nano-banana-pro");

        var info = PngChecker.Check(image.Bytes);
        Assert.Equal((width, height), (info.Width, info.Height));
        Assert.Equal((ImageFormats.Png, width, height), (image.ContentType, image.Width, image.Height));
        Assert.StartsWith("offline://renderer/", image.Debug.RequestUrl);
        Assert.Equal(200, image.Debug.ResponseStatus);
        Assert.False(image.Debug.UsedFallback);
    }

    [Fact]
    public void The_seed_api_debug_shows_is_one_a_client_may_send_and_it_renders_the_same_image()
    {
        var chosen = Render(prompt: "a fox without a seed");

        var seed = (long)chosen.Debug.RequestBody["seed"]!;
        Assert.InRange(seed, 0, uint.MaxValue); // the range generate takes
        Assert.Equal(chosen.Bytes, Render(prompt: "a fox without a seed", seed: seed).Bytes);
    }

    [Fact]
    public void The_request_url_names_the_model_as_one_path_segment()
    {
        Assert.Equal("offline://renderer/Kwai-Kolors%2FKolors", Render(model: "Kwai-Kolors/Kolors").Debug.RequestUrl);
    }

    [Fact]
    public async Task A_call_canceled_before_its_turn_is_not_rendered()
    {
        var call = new ProviderCall(new ProviderRequest(new GenerationRequest("gone", "realistic", "1:1", "grok", null, false, null, null),
            ImageDimensions.For("1:1", null), null), "grok", new ModelEntry(), "");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new OfflineRenderer().SubmitAsync(call, new CancellationToken(canceled: true)));
    }

    [Theory]
    [InlineData(ImageFormats.Png)]
    [InlineData(ImageFormats.Jpeg)]
    [InlineData(ImageFormats.Webp)]
    public async Task The_encoder_is_chosen_by_content_type(string contentType)
    {
        var image = Render(ratio: "4:3", contentType: contentType);

        Assert.Equal(new ImageInfo(contentType, 1024, 768), (await TestImages.Inspector.InspectAsync(image.Bytes, ImageFormats.Accepted, DecodeWait.Bounded, CancellationToken.None)).Image);
        Assert.Equal(contentType, image.ContentType);
        Assert.Equal(contentType, (string)image.Debug.ResponseBody["contentType"]!);
    }

    [Fact]
    public void A_type_the_encoder_does_not_know_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Render(contentType: ImageFormats.Gif));
    }

    [Fact]
    public void Sketch_is_grey_and_cartoon_has_few_levels()
    {
        using var sketch = SkiaSharp.SKBitmap.Decode(Render(style: "sketch").Bytes);
        using var cartoon = SkiaSharp.SKBitmap.Decode(Render(style: "cartoon").Bytes);

        Assert.All(sketch.Pixels, p => Assert.True(p.Red == p.Green && p.Green == p.Blue));
        Assert.All(cartoon.Pixels, p => Assert.True(p.Red % 51 == 0 && p.Green % 51 == 0 && p.Blue % 51 == 0));
    }
}
