using System.Diagnostics;
using System.Net.Http.Headers;
using Functions.Files;
using Functions.Storage;
using SkiaSharp;

namespace Functions.Tests.Api;

/// <summary>Uploads and reference images (inline or by file id) are decoded before they are used; what is no image is refused.</summary>
public sealed class ImageCheckTests(AppFixture app) : IClassFixture<AppFixture>
{
    static readonly byte[] Jpeg = TestImages.Encode(40, 30, SKEncodedImageFormat.Jpeg);
    static readonly byte[] Gif = Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==");

    public static TheoryData<string, byte[], HttpStatusCode> RefusedUploads => new()
    {
        { "garbage after the png signature", TestImages.PngSignatureThenGarbage(), HttpStatusCode.UnsupportedMediaType },
        { "truncated jpeg", Jpeg[..(Jpeg.Length / 2)], HttpStatusCode.UnsupportedMediaType },
        { "gif", Gif, HttpStatusCode.UnsupportedMediaType },
        { "text", "just some text, named .png"u8.ToArray(), HttpStatusCode.UnsupportedMediaType },
        { "png declaring 100000 x 100000", TestImages.PngDeclaring(100_000, 100_000), HttpStatusCode.RequestEntityTooLarge },
        { "png declaring 16385 x 16", TestImages.PngDeclaring(16_385, 16), HttpStatusCode.RequestEntityTooLarge },
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
        { Convert.ToBase64String(Gif), "unsupported_media_type" },
        { Convert.ToBase64String(TestImages.PngDeclaring(100_000, 100_000)), "reference_image_too_large" },
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
    public async Task A_stored_file_that_is_no_usable_image_cannot_be_a_reference(string kind, string error)
    {
        // Files stored before uploads were decode-checked: written straight to the store, as they were then.
        await app.Service<StorageBootstrap>().EnsureCreatedAsync(CancellationToken.None);
        var fileId = FileIds.New(DateTimeOffset.UtcNow);
        var bytes = kind == "bomb" ? TestImages.PngDeclaring(100_000, 100_000) : TestImages.PngSignatureThenGarbage();
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
        var referenceId = job.GetProperty("params").GetProperty("referenceFileId").GetString();
        var file = await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/files/{referenceId}");
        Assert.Equal("image/jpeg", file.GetProperty("content_type").GetString());
        Assert.Equal(("reference", 40, 30), (file.GetProperty("meta").GetProperty("kind").GetString(),
            file.GetProperty("meta").GetProperty("width").GetInt32(), file.GetProperty("meta").GetProperty("height").GetInt32()));
        await JobsApiTests.PollAsync(app.Client, response.Headers.Location!.AbsolutePath);
    }

    async Task<int> FileCountAsync() =>
        (await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/files?limit=100")).GetProperty("data").GetArrayLength();

    Task<HttpResponseMessage> UploadAsync(byte[] bytes, string filename)
    {
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = MediaTypeHeaderValue.Parse("image/png");
        return app.Client.PostAsync("/api/v1/files", new MultipartFormDataContent { { part, "file", filename } });
    }
}
