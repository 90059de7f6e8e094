using System.Diagnostics;
using System.Net.Http.Headers;
using Functions.Files;
using Functions.Generation;
using Functions.Hosting;
using Functions.Storage;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace Functions.Tests.Api;

/// <summary>Uploads and reference images (inline or by file id) are decoded before they are used; what is no image is refused.</summary>
public sealed class ImageCheckTests(AppFixture app) : IClassFixture<AppFixture>
{
    static readonly byte[] Jpeg = TestImages.Encode(40, 30, SKEncodedImageFormat.Jpeg);

    public static TheoryData<string, byte[], HttpStatusCode> RefusedUploads => new()
    {
        { "garbage after the png signature", TestImages.PngSignatureThenGarbage(), HttpStatusCode.UnsupportedMediaType },
        { "truncated jpeg", Jpeg[..(Jpeg.Length / 2)], HttpStatusCode.UnsupportedMediaType },
        { "gif", TestImages.Gif, HttpStatusCode.UnsupportedMediaType },
        { "text", "just some text, named .png"u8.ToArray(), HttpStatusCode.UnsupportedMediaType },
        { "the first line of a pdf", "%PDF-1.7\n"u8.ToArray(), HttpStatusCode.UnsupportedMediaType },
        { "png declaring 100000 x 100000", TestImages.PngDeclaring(100_000, 100_000), HttpStatusCode.RequestEntityTooLarge },
        { "png declaring 16385 x 16", TestImages.PngDeclaring(16_385, 16), HttpStatusCode.RequestEntityTooLarge },
        { "png declaring 1000001 x 1 (more than libpng opens)", TestImages.PngDeclaring(1_000_001, 1), HttpStatusCode.RequestEntityTooLarge },
    };

    [Theory]
    [MemberData(nameof(RefusedUploads))]
    public async Task An_upload_that_does_not_decode_or_is_too_large_is_refused_in_the_kiapi_shape_and_not_stored(string what, byte[] bytes, HttpStatusCode status)
    {
        var before = await FileCountAsync();
        var clock = Stopwatch.StartNew();

        var response = await UploadAsync(bytes, "image.png");

        Assert.True(status == response.StatusCode, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{what} took {clock.Elapsed}");
        Assert.Equal(JsonValueKind.String, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").ValueKind);
        Assert.Equal(before, await FileCountAsync());
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Jpeg, "image/jpeg")]
    [InlineData(SKEncodedImageFormat.Webp, "image/webp")]
    public async Task An_upload_is_stored_with_the_type_and_size_its_codec_reads(SKEncodedImageFormat format, string type)
    {
        var response = await UploadAsync(TestImages.Encode(33, 17, format), "photo.png"); // the name says png: the bytes win

        var record = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, record.GetProperty("content_type").GetString());
        Assert.Equal((33, 17), (record.GetProperty("meta").GetProperty("width").GetInt32(), record.GetProperty("meta").GetProperty("height").GetInt32()));
    }

    public static TheoryData<string, string> RefusedReferences => new()
    {
        { Convert.ToBase64String(TestImages.PngSignatureThenGarbage()), "invalid_image" },
        { Convert.ToBase64String(Jpeg[..(Jpeg.Length / 2)]), "invalid_image" },
        { Convert.ToBase64String(TestImages.Gif), "unsupported_media_type" },
        { Convert.ToBase64String("%PDF-1.7\n"u8), "unsupported_media_type" }, // no image at all, not a damaged one
        { Convert.ToBase64String(TestImages.PngDeclaring(100_000, 100_000)), "reference_image_too_large" },
        { Convert.ToBase64String(TestImages.PngDeclaring(1_000_001, 1)), "reference_image_too_large" }, // more than libpng opens
        { "", "invalid_value" },
        { "data:image/png;base64,", "invalid_value" },
    };

    [Theory]
    [MemberData(nameof(RefusedReferences))]
    public async Task An_inline_reference_that_is_no_usable_image_answers_400(string base64, string error)
    {
        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "x", referenceImageBase64 = base64 });

        await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadRequest, error);
    }

    [Theory]
    [InlineData("garbage", "invalid_image")]
    [InlineData("bomb", "reference_image_too_large")]
    [InlineData("wide", "reference_image_too_large")]
    public async Task A_stored_file_that_is_no_usable_image_cannot_be_a_reference(string kind, string error)
    {
        // Files stored before uploads were decode-checked: written straight to the store, as they were then.
        await app.Service<StorageBootstrap>().EnsureCreatedAsync(CancellationToken.None);
        var fileId = FileIds.New(DateTimeOffset.UtcNow);
        var bytes = kind switch
        {
            "bomb" => TestImages.PngDeclaring(100_000, 100_000),
            "wide" => TestImages.PngDeclaring(1_000_001, 1), // more than libpng opens
            _ => TestImages.PngSignatureThenGarbage(),
        };
        await app.Service<FileStore>().SaveAsync(fileId, bytes, "image/png", "old.png", DateTimeOffset.UtcNow, isPrivate: false);

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "x", model = "nano-banana-2", referenceFileId = fileId });

        var body = await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.BadRequest, error);
        Assert.Contains(fileId, body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_inline_reference_is_stored_with_the_type_and_size_its_codec_reads()
    {
        var response = await JobsApiTests.SubmitAsyncAsync(app.Client,
            new { prompt = "like this", referenceImageBase64 = Convert.ToBase64String(Jpeg), referenceImageMime = "image/JPG" });

        var job = await response.Content.ReadFromJsonAsync<JsonElement>();
        var referenceId = await app.ReferenceCopyOfAsync(job.GetProperty("id").GetString()!);
        var file = await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/files/{referenceId}");
        Assert.Equal("image/jpeg", file.GetProperty("content_type").GetString());
        Assert.Equal(("reference", 40, 30), (file.GetProperty("meta").GetProperty("kind").GetString(),
            file.GetProperty("meta").GetProperty("width").GetInt32(), file.GetProperty("meta").GetProperty("height").GetInt32()));
        await JobsApiTests.PollAsync(app.Client, response.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task Uploads_that_find_the_decode_budget_taken_wait_for_it_and_are_stored()
    {
        var budget = app.Service<DecodeBudget>();
        var whole = await TakeWholeBudgetAsync(app);
        var uploads = Enumerable.Range(0, 3).Select(i => UploadAsync(TestImages.Encode(20 + i, 10), $"queued-{i}.png")).ToList();
        try
        {
            await Eventually.HoldsAsync(() => Task.FromResult(budget.Waiting == 3)); // one megapixel each, rounded up
            await Task.Delay(200);
            Assert.DoesNotContain(uploads, upload => upload.IsCompleted);
        }
        finally
        {
            whole.Dispose();
        }

        foreach (var response in await Task.WhenAll(uploads))
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Takes the app's whole decode budget, as decodes in flight would: until it is disposed, every decode waits.</summary>
    internal static async Task<System.Threading.RateLimiting.RateLimitLease> TakeWholeBudgetAsync(AppFixture app)
    {
        var megapixels = app.Service<IOptions<GenerationOptions>>().Value.DecodeBudgetMegapixels;
        return await app.Service<DecodeBudget>().AcquireAsync(new ImageInfo(ImageFormats.Png, 1000, 1000 * megapixels),
            megapixels * DecodeBudget.BytesPerPermit, DecodeWait.Bounded, CancellationToken.None);
    }

    internal static async Task<int> FileCountAsync(AppFixture app) =>
        (await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/files?limit=100")).GetProperty("data").GetArrayLength();

    Task<int> FileCountAsync() => FileCountAsync(app);

    Task<HttpResponseMessage> UploadAsync(byte[] bytes, string filename) => UploadAsync(app.Client, bytes, filename);

    internal static Task<HttpResponseMessage> UploadAsync(HttpClient client, byte[] bytes, string filename)
    {
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = MediaTypeHeaderValue.Parse("image/png");
        return client.PostAsync("/api/v1/files", new MultipartFormDataContent { { part, "file", filename } });
    }
}

/// <summary>The app with a one-second wait for the decode budget.</summary>
public sealed class ShortDecodeWaitFixture : AppFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Generation:DecodeWaitSeconds"] = "1" };
}

/// <summary>A decode budget that stays taken through the wait: 503 with Retry-After in the surface's shape, never a 500 or a hang.</summary>
public sealed class BusyDecodeTests(ShortDecodeWaitFixture app) : IClassFixture<ShortDecodeWaitFixture>
{
    [Fact]
    public Task An_upload_that_finds_the_budget_taken_through_the_wait_answers_503_with_Retry_After_in_the_kiapi_shape() =>
        AssertBusyUploadAsync(async () => await ImageCheckTests.TakeWholeBudgetAsync(app), "30 x 20 pixels");

    [Fact]
    public Task An_upload_that_finds_the_upload_memory_taken_through_the_wait_answers_503_server_busy_and_is_not_stored() =>
        // Uploads in flight holding the whole budget, as a hundred concurrent 9 MiB uploads would.
        AssertBusyUploadAsync(async () => await app.Service<UploadBudget>().AcquireAsync(
            app.Service<IOptions<GenerationOptions>>().Value.UploadBudgetMegabytes * 1024L * 1024, CancellationToken.None), "uploaded images");

    /// <summary>While a budget is held, an upload answers 503 with Retry-After after the wait and stores nothing; once it is free, the same upload is stored.</summary>
    async Task AssertBusyUploadAsync(Func<Task<IDisposable>> holdBudget, string detailNames)
    {
        var before = await ImageCheckTests.FileCountAsync(app);
        HttpResponseMessage response;
        var clock = Stopwatch.StartNew();
        using (await holdBudget())
            response = await ImageCheckTests.UploadAsync(app.Client, TestImages.Encode(30, 20), "busy.png");

        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains(detailNames, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(before, await ImageCheckTests.FileCountAsync(app));
        Assert.Equal(HttpStatusCode.OK, (await ImageCheckTests.UploadAsync(app.Client, TestImages.Encode(30, 20), "busy.png")).StatusCode);
    }

    [Fact]
    public async Task A_generate_with_a_large_inline_reference_that_finds_the_upload_memory_taken_answers_503_server_busy_and_stores_nothing()
    {
        // Over RequestBody.SpoolAboveBytes once in Base64: such a body takes its share before it is held in memory.
        var body = JsonContent.Create(new { prompt = "like this", referenceImageBase64 = Convert.ToBase64String(TestImages.PngOfLength(1024 * 1024)) });
        await body.LoadIntoBufferAsync();
        var history = await GenerateImageTests.HistoryTotalAsync(app);
        HttpResponseMessage busy;
        var clock = Stopwatch.StartNew();
        using (await app.Service<UploadBudget>().AcquireAsync(app.Service<IOptions<GenerationOptions>>().Value.UploadBudgetMegabytes * 1024L * 1024, CancellationToken.None))
            busy = await app.Client.PostAsync("/api/images/generate", body);

        await GenerateImageTests.AssertKioaiError(busy, HttpStatusCode.ServiceUnavailable, "server_busy");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        Assert.NotNull(busy.Headers.RetryAfter);
        Assert.Equal(history, await GenerateImageTests.HistoryTotalAsync(app));
        Assert.Equal(HttpStatusCode.OK, (await app.Client.PostAsync("/api/images/generate", body)).StatusCode);
        Assert.Equal(history + 1, await GenerateImageTests.HistoryTotalAsync(app));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(512 * 1024, 1)]
    [InlineData(512 * 1024 + 1, 2)]
    [InlineData(UploadFile.MaxBytes, 20)]
    public void An_upload_holds_twice_its_size_in_MiB_rounded_up(long bytes, int permits)
    {
        Assert.Equal(permits, UploadBudget.PermitsFor(UploadBudget.HeldByUpload(bytes)));
    }

    [Fact]
    public async Task A_reference_inline_or_named_that_finds_the_budget_taken_answers_503_server_busy_with_Retry_After()
    {
        var uploaded = await ImageCheckTests.UploadAsync(app.Client, TestImages.Encode(24, 24), "reference.png");
        var fileId = (await uploaded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("file_id").GetString();
        HttpResponseMessage inline, named;
        using (await ImageCheckTests.TakeWholeBudgetAsync(app))
        {
            inline = await app.Client.PostAsJsonAsync("/api/images/generate",
                new { prompt = "like this", model = "nano-banana-2", referenceImageBase64 = Convert.ToBase64String(TestImages.Encode(24, 24)) });
            named = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "like this", model = "nano-banana-2", referenceFileId = fileId });
        }

        foreach (var response in new[] { inline, named })
        {
            await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.ServiceUnavailable, "server_busy");
            Assert.NotNull(response.Headers.RetryAfter);
        }
    }
}
