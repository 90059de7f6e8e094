using Functions.Hosting;
using System.Net.Http.Headers;
using SkiaSharp;

namespace Functions.Tests.Api;

public sealed class DownloadAndRoutingTests(AppFixture app) : IClassFixture<AppFixture>
{
    async Task<string> NewImagePathAsync() =>
        new Uri((await app.GenerateAsync(new { prompt = "download me" })).GetProperty("imageUrl").GetString()!).PathAndQuery;

    /// <summary>A GET of the download with the conditional or range headers a test sets.</summary>
    Task<HttpResponseMessage> DownloadWithAsync(string path, Action<HttpRequestHeaders> headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        headers(request.Headers);
        return app.Client.SendAsync(request);
    }

    /// <summary>
    /// An error answer of the download: its status, and kiapi's {"detail"} body (the file result's own has none, and its
    /// Content-Length of 0 must not stay), which it returns.
    /// </summary>
    static async Task<string> AssertDetailAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.Content.Headers.ContentLength is null || response.Content.Headers.ContentLength == body.Length,
            $"Content-Length {response.Content.Headers.ContentLength} for a body of {body.Length} bytes");
        var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail");
        Assert.Equal(JsonValueKind.String, detail.ValueKind);
        return detail.GetString()!;
    }

    [Theory]
    [InlineData("GET", "/api/healthz", HttpStatusCode.OK)]
    [InlineData("HEAD", "/api/v1/files", HttpStatusCode.OK)]
    [InlineData("GET", "/api/no-such-route", HttpStatusCode.NotFound)]
    [InlineData("PUT", "/api/healthz", HttpStatusCode.MethodNotAllowed)]
    [InlineData("GET", "/api/v1/jobs/not-a-job", HttpStatusCode.UnprocessableEntity)]
    [InlineData("POST", "/api/images/generate", HttpStatusCode.UnsupportedMediaType)]
    public async Task Every_answer_names_its_request_for_a_clients_report(string method, string path, HttpStatusCode status)
    {
        var first = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        var second = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(status, first.StatusCode);
        var id = Assert.Single(first.Headers.GetValues("X-Request-Id"));
        Assert.False(string.IsNullOrWhiteSpace(id));
        Assert.NotEqual(id, Assert.Single(second.Headers.GetValues("X-Request-Id")));
    }

    [Fact]
    public async Task Download_sends_type_length_etag_and_cache_headers()
    {
        var response = await app.Client.GetAsync(await NewImagePathAsync());
        var bytes = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal("public, max-age=3600", response.Headers.CacheControl!.ToString()); // deletable: not a year, not immutable
        Assert.Contains("bytes", response.Headers.AcceptRanges);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Theory]
    [InlineData(null, "png")] // a generated image
    [InlineData(SKEncodedImageFormat.Jpeg, "jpg")]
    [InlineData(SKEncodedImageFormat.Webp, "webp")]
    public async Task A_download_is_shown_inline_and_named_by_its_file_id_and_type(SKEncodedImageFormat? uploaded, string extension)
    {
        var path = uploaded is { } format
            ? $"/api/v1/files/{(await (await ImageCheckTests.UploadAsync(app.Client, TestImages.Encode(8, 6, format), "photo")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("file_id").GetString()}/download"
            : await NewImagePathAsync();
        var fileId = path.Split('/')[^2];

        var disposition = (await app.Client.GetAsync(path)).Content.Headers.ContentDisposition!;

        Assert.Equal("inline", disposition.DispositionType); // a browser shows the image rather than saving it
        Assert.Equal($"{fileId}.{extension}", disposition.FileName);
    }

    [Fact]
    public async Task A_private_image_is_downloaded_as_private_so_shared_caches_keep_no_copy()
    {
        var path = new Uri((await app.GenerateAsync(new { prompt = "download me privately", isPrivate = true })).GetProperty("imageUrl").GetString()!).PathAndQuery;

        var response = await app.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cacheControl = response.Headers.CacheControl!;
        Assert.True(cacheControl.Private);
        Assert.False(cacheControl.Public);
        Assert.Equal(TimeSpan.FromHours(1), cacheControl.MaxAge); // as a public image's: deletable, so an hour at most
    }

    [Theory]
    [InlineData("bytes=8-23")]
    [InlineData("BYTES=8-23")] // a range unit is case-insensitive (RFC 9110, 14.1)
    public async Task Range_request_answers_206_with_that_range(string range)
    {
        var path = await NewImagePathAsync();
        var full = await app.Client.GetByteArrayAsync(path);
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Range", range);

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(full[8..24], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 8-23/{full.Length}", response.Content.Headers.ContentRange!.ToString());
    }

    [Fact]
    public async Task A_suffix_range_answers_206_with_the_last_bytes()
    {
        var path = await NewImagePathAsync();
        var full = await app.Client.GetByteArrayAsync(path);
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Range = new RangeHeaderValue(null, 10);

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(full[^10..], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes {full.Length - 10}-{full.Length - 1}/{full.Length}", response.Content.Headers.ContentRange!.ToString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100_000_000)]
    public async Task A_range_from_the_size_or_past_it_answers_416_in_the_kiapi_shape(long pastSize)
    {
        var path = await NewImagePathAsync();
        var size = (await app.Client.GetByteArrayAsync(path)).Length;

        var response = await DownloadWithAsync(path, h => h.Range = new RangeHeaderValue(size + pastSize, null));

        var detail = await AssertDetailAsync(response, HttpStatusCode.RequestedRangeNotSatisfiable);
        Assert.Equal($"bytes */{size}", response.Content.Headers.ContentRange!.ToString());
        Assert.Contains($"selects no byte of the file's {size} bytes", detail);
    }

    [Fact]
    public async Task An_unsatisfiable_range_with_an_if_range_date_that_matches_answers_416_with_a_body()
    {
        var path = await NewImagePathAsync();
        var lastModified = (await app.Client.GetAsync(path)).Content.Headers.LastModified!.Value;

        var response = await DownloadWithAsync(path, h =>
        {
            h.Range = new RangeHeaderValue(100_000_000, null);
            h.IfRange = new RangeConditionHeaderValue(lastModified);
        });

        await AssertDetailAsync(response, HttpStatusCode.RequestedRangeNotSatisfiable);
    }

    [Fact]
    public async Task A_failed_if_match_answers_412_with_a_body_and_no_attachment_headers()
    {
        var response = await DownloadWithAsync(await NewImagePathAsync(), h => h.IfMatch.Add(new EntityTagHeaderValue("\"another-version\"")));

        await AssertDetailAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Null(response.Content.Headers.ContentDisposition);
    }

    [Fact]
    public async Task An_if_match_with_the_weak_form_of_the_etag_answers_412()
    {
        var path = await NewImagePathAsync();
        var etag = (await app.Client.GetAsync(path)).Headers.ETag!;

        var response = await DownloadWithAsync(path, h => h.IfMatch.Add(new EntityTagHeaderValue(etag.Tag, isWeak: true)));

        await AssertDetailAsync(response, HttpStatusCode.PreconditionFailed); // RFC 9110, 13.1.1: If-Match compares strongly
    }

    [Fact]
    public async Task An_error_answer_of_a_download_is_not_kept_by_caches()
    {
        var response = await DownloadWithAsync(await NewImagePathAsync(), h => h.Range = new RangeHeaderValue(100_000_000, null));

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.True(response.Headers.CacheControl!.NoStore); // not the file's "public, max-age=3600"
    }

    [Fact]
    public async Task A_matching_if_none_match_answers_304_before_the_range_is_looked_at()
    {
        var path = await NewImagePathAsync();
        var etag = (await app.Client.GetAsync(path)).Headers.ETag!;

        var response = await DownloadWithAsync(path, h =>
        {
            h.Range = new RangeHeaderValue(100_000_000, null);
            h.IfNoneMatch.Add(etag);
        });

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode); // RFC 9110, 13.2.2
    }

    [Theory]
    [InlineData(null, HttpStatusCode.NotModified)]
    [InlineData("\"another-version\"", HttpStatusCode.OK)]
    public async Task If_none_match_decides_and_if_modified_since_beside_it_is_not_looked_at(string? ifNoneMatch, HttpStatusCode expected)
    {
        var path = await NewImagePathAsync();
        var first = await app.Client.GetAsync(path);

        var response = await DownloadWithAsync(path, h =>
        {
            h.IfNoneMatch.Add(ifNoneMatch is null ? first.Headers.ETag! : new EntityTagHeaderValue(ifNoneMatch));
            h.IfModifiedSince = ifNoneMatch is null ? first.Content.Headers.LastModified!.Value.AddDays(-1) : first.Content.Headers.LastModified;
        });

        Assert.Equal(expected, response.StatusCode); // RFC 9110, 13.2.2, step 4: If-Modified-Since only without If-None-Match
    }

    [Theory]
    [InlineData(true, "*", HttpStatusCode.NotModified)]
    [InlineData(true, null, HttpStatusCode.NotModified)]
    [InlineData(false, "*", HttpStatusCode.NotModified)]
    [InlineData(false, "\"another-version\"", HttpStatusCode.OK)]
    public async Task An_if_match_that_holds_leaves_the_answer_to_if_none_match(bool anyVersion, string? ifNoneMatch, HttpStatusCode expected)
    {
        var path = await NewImagePathAsync();
        var etag = (await app.Client.GetAsync(path)).Headers.ETag!;

        var response = await DownloadWithAsync(path, h =>
        {
            h.IfMatch.Add(anyVersion ? EntityTagHeaderValue.Any : etag);
            h.IfNoneMatch.Add(ifNoneMatch is null ? etag : ifNoneMatch == "*" ? EntityTagHeaderValue.Any : new EntityTagHeaderValue(ifNoneMatch));
        });

        Assert.Equal(expected, response.StatusCode); // RFC 9110, 13.2.2: If-Match, then If-None-Match
    }

    [Fact]
    public async Task An_if_match_that_holds_skips_if_unmodified_since()
    {
        var path = await NewImagePathAsync();
        var first = await app.Client.GetAsync(path);

        var response = await DownloadWithAsync(path, h =>
        {
            h.IfMatch.Add(first.Headers.ETag!);
            h.IfUnmodifiedSince = first.Content.Headers.LastModified!.Value.AddDays(-1);
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // RFC 9110, 13.2.2: If-Unmodified-Since only without If-Match
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData(null)] // an entity tag of another version
    [InlineData(-1)] // a date before the file's Last-Modified
    [InlineData(1)] // or after it: RFC 9110 (13.1.5) serves the range only on an exact match
    public async Task A_range_with_an_if_range_that_no_longer_matches_answers_the_whole_file(int? daysFromLastModified)
    {
        var path = await NewImagePathAsync();
        var first = await app.Client.GetAsync(path);
        var full = await first.Content.ReadAsByteArrayAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Range = new RangeHeaderValue(0, 9);
        request.Headers.IfRange = daysFromLastModified is { } days
            ? new RangeConditionHeaderValue(first.Content.Headers.LastModified!.Value.AddDays(days))
            : new RangeConditionHeaderValue(new EntityTagHeaderValue("\"some-older-version\""));

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(full, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_range_with_an_if_range_date_that_is_the_files_last_modified_answers_206()
    {
        var path = await NewImagePathAsync();
        var first = await app.Client.GetAsync(path);
        var full = await first.Content.ReadAsByteArrayAsync();

        var response = await DownloadWithAsync(path, h =>
        {
            h.Range = new RangeHeaderValue(0, 9);
            h.IfRange = new RangeConditionHeaderValue(first.Content.Headers.LastModified!.Value);
        });

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(full[..10], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_range_under_an_if_range_that_does_not_parse_answers_the_whole_file()
    {
        var path = await NewImagePathAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Range = new RangeHeaderValue(0, 1);
        request.Headers.TryAddWithoutValidation("If-Range", "yesterday");

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(await app.Client.GetByteArrayAsync(path), await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("items=0-9")] // a unit the server does not know is ignored (RFC 9110, 14.2)
    [InlineData("bytes=9-2")] // an invalid range is ignored
    [InlineData("bytes=0-0,5-6")] // several ranges are not served
    public async Task A_range_the_server_does_not_serve_answers_the_whole_file(string range)
    {
        var path = await NewImagePathAsync();
        var full = await app.Client.GetByteArrayAsync(path);
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Range", range);

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(full, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_range_with_a_matching_if_range_answers_206()
    {
        var path = await NewImagePathAsync();
        var first = await app.Client.GetAsync(path);
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Range = new RangeHeaderValue(0, 9);
        request.Headers.IfRange = new RangeConditionHeaderValue(first.Headers.ETag!);

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(10, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Theory]
    [InlineData("download")]
    [InlineData("api/health")]
    [InlineData("api/healthz")]
    [InlineData("api/images/history")]
    [InlineData("api/v1/models")]
    [InlineData("api/v1/jobs")]
    [InlineData("api/v1/files")]
    public async Task HEAD_answers_200_with_the_headers_and_no_body(string what)
    {
        var path = what == "download" ? await NewImagePathAsync() : "/" + what;
        var get = await app.Client.GetAsync(path);

        var head = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        if (what == "download") Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);
    }

    [Theory]
    [InlineData("head", "download", "GET, HEAD")] // answered as HEAD, it was a 500 with no body: Kestrel saw no HEAD and wanted the bytes
    [InlineData("Head", "api/v1/files", "GET, HEAD, POST")]
    [InlineData("get", "api/healthz", "GET, HEAD")]
    [InlineData("delete", "image", "DELETE")] // it deleted the image
    public async Task A_method_in_another_case_is_not_the_routes_and_answers_405_in_the_surface_shape(string method, string what, string allowed)
    {
        var generated = await app.GenerateAsync(new { prompt = "a method in another case" });
        var download = new Uri(generated.GetProperty("imageUrl").GetString()!).PathAndQuery;
        var path = what switch { "download" => download, "image" => $"/api/images/{generated.GetProperty("id").GetInt64()}", _ => "/" + what };

        var response = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(allowed, string.Join(", ", response.Content.Headers.Allow.Order(StringComparer.Ordinal)));
        var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement;
        Assert.Contains("case-sensitive", body.GetProperty(Routes.IsKiapi(path) ? "detail" : "message").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync(download)).StatusCode); // nothing was deleted
    }

    [Fact]
    public async Task Matching_etag_answers_304()
    {
        var path = await NewImagePathAsync();
        var first = await app.Client.GetAsync(path);
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
    }

    [Fact]
    public async Task Unknown_file_answers_404_and_malformed_id_422_in_the_kiapi_shape()
    {
        var missing = await app.Client.GetAsync("/api/v1/files/file_0123456789abcdef/download");
        var malformed = await app.Client.GetAsync("/api/v1/files/not-a-file/download");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(JsonValueKind.String, (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").ValueKind);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, malformed.StatusCode);
        var detail = (await malformed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0];
        Assert.Equal("file_id", detail.GetProperty("loc")[1].GetString());
    }

    [Fact]
    public async Task Unknown_routes_and_methods_answer_in_the_surface_shape()
    {
        await GenerateImageTests.AssertKioaiError(await app.Client.GetAsync("/api/nothing-here"), HttpStatusCode.NotFound, "not_found");
        await GenerateImageTests.AssertKioaiError(await app.Client.PutAsync("/api/images/generate", null), HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        var kiapi = await app.Client.GetAsync("/api/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, kiapi.StatusCode);
        Assert.Equal(JsonValueKind.String, (await kiapi.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").ValueKind);
        var health = await app.Client.PostAsync("/api/health", null); // /health is kiapi's, though not under /v1
        Assert.Equal(HttpStatusCode.MethodNotAllowed, health.StatusCode);
        Assert.Equal(JsonValueKind.String, (await health.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").ValueKind);
    }

    [Fact]
    public async Task Healthz_answers_ok_while_storage_answers()
    {
        var response = await app.Client.GetAsync("/api/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Unknown_job_answers_404_and_malformed_job_id_422()
    {
        var missing = await app.Client.GetAsync("/api/v1/jobs/job_00000000000000000000");
        var malformed = await app.Client.GetAsync("/api/v1/jobs/JOB-1");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, malformed.StatusCode);
        Assert.Equal("job_id", (await malformed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0].GetProperty("loc")[1].GetString());
    }
}
