using Functions.Generation;
using Functions.Generation.Providers;
using Functions.Tests.Api;
using Functions.Tests.Fakes;

namespace Functions.Tests.Providers;

/// <summary>
/// Every model of the catalog, through POST /api/images/generate, against its fake upstream's protocol (a shipped model
/// without a row here fails ModelCatalogTests).
/// </summary>
public sealed class ModelEndToEndTests(ProviderFixture app) : IClassFixture<ProviderFixture>
{
    [Theory]
    [InlineData("grok", "/uapi/v1/imagen/grok", "orientation", "portrait")]
    [InlineData("meta", "/uapi/v1/meta_ai/generate", "orientation", "portrait")]
    [InlineData("imagen-pro", "/uapi/v1/generate_image", "aspect_ratio", "3:4")]
    [InlineData("imagen-4", "/uapi/v1/generate_image", "aspect_ratio", "3:4")]
    [InlineData("imagen-flash", "/uapi/v1/generate_image", "aspect_ratio", "3:4")]
    [InlineData("nano-banana-pro", "/uapi/v1/generate_image", "aspect_ratio", "3:4")]
    [InlineData("nano-banana-2", "/uapi/v1/generate_image", "aspect_ratio", "3:4")]
    [InlineData("Kwai-Kolors/Kolors", "/v1/images/generations", "image_size", "960x1280")]
    [InlineData("Qwen/Qwen-Image", "/v1/images/generations", "image_size", "1056x1584")]
    [InlineData("gpt-image-1", "/v1/images/generations", "size", "1024x1536")]
    [InlineData("gpt-image-1-mini", "/v1/images/generations", "size", "1024x1536")]
    [InlineData("dall-e-3", "/v1/images/generations", "size", "1024x1024")]
    public async Task Every_model_generates_through_its_upstream_protocol(string model, string path, string shapeField, string shape)
    {
        app.ClearFaults();
        var fake = FakeOf(model);
        var before = fake.Requests.Count;

        var json = await app.GenerateAsync(new { prompt = $"a lighthouse by {model}", model, aspectRatio = "2:3", style = "watercolor" });

        var submit = fake.Requests.Skip(before).First(r => r.Method == "POST");
        Assert.Equal(path, submit.Path);
        Assert.Equal(shape, submit.Fields[shapeField]);
        Assert.False(submit.Fields.ContainsKey("files") || submit.Fields.ContainsKey("image"), "a reference was sent without one");
        Assert.Equal(model, json.GetProperty("model").GetString());
        var image = await app.Client.GetByteArrayAsync(new Uri(json.GetProperty("imageUrl").GetString()!).PathAndQuery);
        Assert.Equal(FakeUpstream.Image, image);

        var debug = json.GetProperty("apiDebug");
        Assert.EndsWith(path, debug.GetProperty("requestUrl").GetString());
        Assert.False(debug.GetProperty("usedFallback").GetBoolean());
        Assert.DoesNotContain(fake switch { FakeSiliconFlow => FakeSiliconFlow.Key, FakeOpenAi => FakeOpenAi.Key, _ => FakeGeminigen.ApiKey }, json.GetRawText());
    }

    [Fact]
    public async Task Styles_and_models_are_mapped_by_the_tables()
    {
        app.ClearFaults();
        // Each request is found by its own prompt: a fake's log is the class's, in the order requests arrived.
        await app.GenerateAsync(new { prompt = "tiles, every field", model = "nano-banana-pro", resolution = "2K", style = "realistic", aspectRatio = "16:9" });
        var sent = SubmitOf(app.Geminigen, "tiles, every field");
        Assert.Equal(("nano-banana-pro", "Photorealistic", "16:9", "2K", "png"),
            (sent["model"], sent["style"], sent["aspect_ratio"], sent["resolution"], sent["output_format"]));

        var json = await app.GenerateAsync(new { prompt = "tiles, no resolution", model = "nano-banana-pro" });
        Assert.DoesNotContain("resolution", SubmitOf(app.Geminigen, "tiles, no resolution").Keys); // the upstream's default
        Assert.False(json.GetProperty("apiDebug").GetProperty("requestBody").TryGetProperty("resolution", out _));

        await app.GenerateAsync(new { prompt = "a cat with a seed", model = "Kwai-Kolors/Kolors", style = "anime", seed = 77 });
        var sf = SubmitOf(app.SiliconFlow, "a cat with a seed, anime style");
        Assert.Equal(("Kwai-Kolors/Kolors", "1024x1024", "77"), (sf["model"], sf["image_size"], sf["seed"]));

        await app.GenerateAsync(new { prompt = "a grok cat", model = "grok", style = "anime" }); // grok takes no style field
        Assert.Contains(app.Geminigen.Requests, r => r.Method == "POST" && r.Fields.GetValueOrDefault("prompt") == "a grok cat, anime style");
    }

    static IReadOnlyDictionary<string, string> SubmitOf(FakeUpstream fake, string prompt) =>
        fake.Requests.First(r => r.Method == "POST" && r.Fields.GetValueOrDefault("prompt") == prompt).Fields;

    [Fact]
    public async Task A_request_without_a_seed_sends_siliconflow_none_so_that_it_picks_one()
    {
        app.ClearFaults();
        var before = app.SiliconFlow.Requests.Count;

        await app.GenerateAsync(new { prompt = "a heron, any seed", model = "Kwai-Kolors/Kolors" });

        Assert.DoesNotContain("seed", app.SiliconFlow.Requests.Skip(before).First().Fields.Keys);
    }

    [Theory]
    [InlineData("Kwai-Kolors/Kolors")]
    [InlineData("Qwen/Qwen-Image")]
    public async Task SiliconFlow_gets_the_steps_and_guidance_it_requires_from_the_catalog(string model)
    {
        app.ClearFaults();
        var entry = ShippedCatalog.Load().Find(model)!;
        var before = app.SiliconFlow.Requests.Count;

        await app.GenerateAsync(new { prompt = "a heron", model }); // the fake answers 400 to a request without them

        var sent = app.SiliconFlow.Requests.Skip(before).First().Fields;
        Assert.NotNull(entry.InferenceSteps);
        Assert.NotNull(entry.GuidanceScale);
        Assert.Equal(entry.InferenceSteps!.Value, int.Parse(sent["num_inference_steps"]));
        Assert.Equal(entry.GuidanceScale!.Value, double.Parse(sent["guidance_scale"], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("dall-e-3")]
    [InlineData("gpt-image-1")]
    public async Task A_prompt_at_the_kioai_limit_with_a_style_still_fits_the_openai_models_limit(string model)
    {
        app.ClearFaults();
        var prompt = new string('p', Functions.Generation.GenerateImageValidator.MaxPromptLength);

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt, model, style = "watercolor" });

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_reference_image_travels_to_the_upstream()
    {
        var sent = await SubmittedWithReferenceAsync(app.Geminigen, "grok");
        Assert.Equal($"<file {FakeUpstream.Image.Length} bytes image/png>", sent["files"]);
        Assert.Equal("form-data; name=\"files\"; filename=\"reference.png\"", sent["files.disposition"]); // no filename* (RFC 7578, 4.2)
    }

    [Fact]
    public async Task A_reference_image_travels_to_siliconflow_as_a_data_url()
    {
        var sent = await SubmittedWithReferenceAsync(app.SiliconFlow, "Kwai-Kolors/Kolors");
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(FakeUpstream.Image), sent["image"]);
    }

    [Fact]
    public async Task A_jpeg_reference_travels_to_siliconflow_as_a_jpeg_data_url()
    {
        app.ClearFaults();
        var jpeg = TestImages.Encode(8, 6, SkiaSharp.SKEncodedImageFormat.Jpeg);
        var before = app.SiliconFlow.Requests.Count;

        var answer = await app.GenerateAsync(new { prompt = "like this jpeg", model = "Kwai-Kolors/Kolors",
            referenceImageBase64 = Convert.ToBase64String(jpeg), referenceImageMime = "image/jpeg" });

        Assert.Equal("data:image/jpeg;base64," + Convert.ToBase64String(jpeg), app.SiliconFlow.Requests.Skip(before).First().Fields["image"]);
        // apiDebug shows the image by its size, never its bytes.
        Assert.Equal($"<base64: {jpeg.Length} bytes>", answer.GetProperty("apiDebug").GetProperty("requestBody").GetProperty("image").GetString());
    }

    /// <summary>The fields <paramref name="fake"/> was sent for a generation by <paramref name="model"/> with a reference image.</summary>
    async Task<IReadOnlyDictionary<string, string>> SubmittedWithReferenceAsync(FakeUpstream fake, string model)
    {
        app.ClearFaults();
        var before = fake.Requests.Count;
        await app.GenerateAsync(new { prompt = "like this", model,
            referenceImageBase64 = Convert.ToBase64String(FakeUpstream.Image), referenceImageMime = "image/png" });
        return fake.Requests.Skip(before).First(r => r.Method == "POST").Fields;
    }

    [Fact]
    public async Task A_catalog_entrys_response_format_is_sent_and_the_url_answered_is_fetched()
    {
        app.ClearFaults();
        var (before, fetched) = (app.OpenAi.Requests.Count, app.OpenAi.ImagesServed);

        await app.GenerateAsync(new { prompt = "by url", model = "dall-e-3" });

        Assert.Equal("url", app.OpenAi.Requests.Skip(before).First(r => r.Method == "POST").Fields["response_format"]);
        Assert.Equal(fetched + 1, app.OpenAi.ImagesServed);
    }

    [Fact]
    public async Task An_answer_with_both_b64_json_and_a_url_is_read_from_its_base64_without_a_download()
    {
        app.ClearFaults();
        app.OpenAi.Fail("/v1/images/generations", Fault.BothImageForms, times: 1);
        var fetched = app.OpenAi.ImagesServed;

        var json = await app.GenerateAsync(new { prompt = "both forms", model = "gpt-image-1" });

        Assert.False(json.GetProperty("apiDebug").GetProperty("usedFallback").GetBoolean());
        Assert.Equal(fetched, app.OpenAi.ImagesServed);
    }

    [Fact]
    public async Task A_model_that_takes_no_reference_or_resolution_answers_400()
    {
        var reference = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "x", model = "gpt-image-1",
            referenceImageBase64 = Convert.ToBase64String(FakeUpstream.Image), referenceImageMime = "image/png" });
        await GenerateImageTests.AssertKioaiError(reference, HttpStatusCode.BadRequest, "reference_not_supported");
        var resolution = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "x", model = "Qwen/Qwen-Image", resolution = "2K" });
        await GenerateImageTests.AssertKioaiError(resolution, HttpStatusCode.BadRequest, "resolution_not_supported");
        var unknown = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "x", model = "dall-e-9" });
        await GenerateImageTests.AssertKioaiError(unknown, HttpStatusCode.BadRequest, "invalid_value");
    }

    [Fact]
    public async Task The_catalog_is_listed_in_the_openai_list_shape()
    {
        var list = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/models");
        Assert.Equal("list", list.GetProperty("object").GetString());
        var models = list.GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("owned_by").GetString());
        Assert.Equal("geminigen", models["grok"]);
        Assert.Equal("siliconflow", models["Kwai-Kolors/Kolors"]);
        Assert.Equal("openai", models["dall-e-3"]);
        Assert.All(list.GetProperty("data").EnumerateArray(), m => Assert.Equal("model", m.GetProperty("object").GetString()));
        var nanoBanana = list.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("id").GetString() == "nano-banana-pro");
        Assert.Equal(["nano-banana-2", "imagen-4"], nanoBanana.GetProperty("fallbacks").EnumerateArray().Select(f => f.GetString())); // README's catalog
        Assert.Equal(["1K", "2K", "4K"], nanoBanana.GetProperty("resolutions").EnumerateArray().Select(r => r.GetString()));
        Assert.True(nanoBanana.GetProperty("takes_reference").GetBoolean());
    }

    FakeUpstream FakeOf(string model) => app.Service<ModelCatalog>().Find(model)!.Provider switch
    {
        SiliconFlowProvider.ProviderName => app.SiliconFlow,
        OpenAiCompatibleProvider.ProviderName => app.OpenAi,
        _ => app.Geminigen,
    };
}

/// <summary>The provider fixture with a SiliconFlow model from configuration alone, naming no steps or guidance.</summary>
public sealed class SiliconFlowDefaultsFixture : ProviderFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        With(("Models:flux-schnell:Provider", "siliconflow"), ("Models:flux-schnell:UpstreamModel", "black-forest-labs/FLUX.1-schnell"),
            ("Models:flux-schnell:Shapes:0", "1024x1024"));
}

public sealed class SiliconFlowDefaultsTests(SiliconFlowDefaultsFixture app) : IClassFixture<SiliconFlowDefaultsFixture>
{
    [Fact]
    public async Task A_siliconflow_model_that_names_no_steps_or_guidance_sends_the_documented_defaults()
    {
        var before = app.SiliconFlow.Requests.Count;

        await app.GenerateAsync(new { prompt = "a heron, by the defaults", model = "flux-schnell" });

        var sent = app.SiliconFlow.Requests.Skip(before).First().Fields;
        Assert.Equal(("20", "7.5"), (sent["num_inference_steps"], sent["guidance_scale"])); // UPSTREAMS.md: default 20 and 7.5
    }
}
