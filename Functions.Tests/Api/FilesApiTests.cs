using System.Text;
using System.Net.Http.Headers;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Functions.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Functions.Tests.Api;

public sealed class FilesApiTests(AppFixture app) : IClassFixture<AppFixture>
{
    static readonly byte[] Png = TestImages.Png(4, 3);

    [Fact]
    public async Task An_uploaded_image_gets_a_record_can_be_read_downloaded_and_deleted()
    {
        var response = await UploadAsync(Png, "holiday photo.png", "application/octet-stream");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await response.Content.ReadFromJsonAsync<JsonElement>();
        var fileId = record.GetProperty("file_id").GetString()!;
        Assert.Matches("^file_[0-9a-f]+$", fileId);
        Assert.Equal("holiday photo.png", record.GetProperty("filename").GetString());
        Assert.Equal("image/png", record.GetProperty("content_type").GetString()); // from the bytes, not the client's claim
        Assert.Equal(Png.Length, record.GetProperty("size").GetInt64());
        Assert.InRange(record.GetProperty("created_at").GetDouble(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60);
        Assert.Equal(4, record.GetProperty("meta").GetProperty("width").GetInt32());
        Assert.Equal("upload", record.GetProperty("meta").GetProperty("kind").GetString());

        var read = await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/files/{fileId}");
        Assert.Equal(record.ToString(), read.ToString());
        Assert.Equal(Png, await app.Client.GetByteArrayAsync($"/api/v1/files/{fileId}/download"));

        var deleted = await app.Client.DeleteAsync($"/api/v1/files/{fileId}");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var body = await deleted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("deleted").GetBoolean());
        Assert.Equal(fileId, body.GetProperty("file_id").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/files/{fileId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.DeleteAsync($"/api/v1/files/{fileId}")).StatusCode);
    }

    [Theory]
    [InlineData("日本語の画像.png", "日本語の画像.png")]
    [InlineData("café 100%.png", "café 100%.png")]
    [InlineData("../../etc/x.png", "x.png")]
    [InlineData("..", null)] // nothing left but dots: the generated name
    [InlineData("\u200B\u200B", null)] // nor anything visible (was kept: a name that shows as nothing)
    [InlineData("\uFEFF\u2060 \u0301", null)]
    [InlineData("..\u200B", null)] // dots and nothing visible besides
    [InlineData("photo\u202Egnp.exe", "photognp.exe")] // no right-to-left override to disguise the name
    [InlineData("photo\u2067gnp.exe\u2069", "photognp.exe")] // nor an isolate
    [InlineData("\u061Cphoto.png", "photo.png")] // nor an Arabic letter mark
    [InlineData("ph\u0001o\u0085to\u007F.png", "photo.png")] // no control characters, C0 or C1
    [InlineData("C:\\Users\\me\\photo.png", "photo.png")] // a Windows path too
    [InlineData("\U0001F468\u200D\U0001F469\u200D\U0001F467.png", "\U0001F468\u200D\U0001F469\u200D\U0001F467.png")] // joiners stay
    public async Task An_upload_keeps_its_own_filename_in_any_script_without_its_path(string given, string? kept)
    {
        var record = await (await UploadAsync(Png, given)).Content.ReadFromJsonAsync<JsonElement>();
        var fileId = record.GetProperty("file_id").GetString()!;

        Assert.Equal(kept ?? $"{fileId}.png", record.GetProperty("filename").GetString());
        Assert.Equal(kept ?? $"{fileId}.png", (await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/files/{fileId}")).GetProperty("filename").GetString());
    }

    [Theory]
    [InlineData("filename=\"a\\\"b.png\"", "a\"b.png")] // a quoted pair (RFC 9110, 5.6.4): the quote is part of the name
    [InlineData("filename=\"say \\\"hi\\\".png\"", "say \"hi\".png")]
    [InlineData("filename=\"a\\\\b.png\"", "b.png")] // an escaped backslash is still a path separator
    [InlineData("filename=\"C:\\Users\\me\\photo.png\"", "photo.png")] // an old browser's Windows path, unescaped
    [InlineData("filename*=UTF-8''a%5C%22b.png", "\"b.png")] // RFC 8187: decoded already, no quoted pairs
    [InlineData("filename=\"pl\\\"ain.png\"; filename*=UTF-8''", "pl\"ain.png")] // a filename* that names nothing: the filename
    [InlineData("filename=\"a.png\"; filename*=UTF-8''%E2%80%AE", "a.png")] // nor one of only a bidi control
    [InlineData("filename=\"b.png\"; filename*=UTF-8''st%C3%A4r.png", "stär.png")] // filename* first (RFC 6266, 4.3)
    public async Task A_parts_filename_is_read_as_its_header_gives_it(string parameter, string kept)
    {
        var body = new ByteArrayContent([.. Encoding.ASCII.GetBytes($"--b\r\nContent-Disposition: form-data; name=\"file\"; {parameter}\r\nContent-Type: image/png\r\n\r\n"),
            .. Png, .. "\r\n--b--\r\n"u8.ToArray()]);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");

        var response = await app.Client.PostAsync("/api/v1/files", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(kept, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("filename").GetString());
    }

    [Theory]
    [InlineData("filename*=UTF-8''%FF%FEx.png")]
    [InlineData("filename=\"\u00FF\u00FE.png\"")] // raw bytes 0xFF 0xFE (the part is written in Latin-1)
    [InlineData("filename=\"caf\u00E9.png\"")] // "café" in Latin-1: 0xE9 alone is no UTF-8
    public async Task A_filename_that_is_not_utf8_is_422(string parameter)
    {
        var body = new ByteArrayContent([.. Encoding.Latin1.GetBytes($"--b\r\nContent-Disposition: form-data; name=\"file\"; {parameter}\r\nContent-Type: image/png\r\n\r\n"),
            .. Png, .. "\r\n--b--\r\n"u8.ToArray()]);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");

        var response = await app.Client.PostAsync("/api/v1/files", body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("not valid UTF-8", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0].GetProperty("msg").GetString());
    }

    [Theory]
    [InlineData("Content-Disposition: form-data; name=\"file\"; filename*=UTF-7''a.png\r\nContent-Type: image/png")]
    [InlineData("Content-Disposition: form-data; name=\"note\"; filename*=utf-7''a.png\r\nContent-Type: image/png")]
    [InlineData("Content-Disposition: form-data; name=\"note\"\r\nContent-Type: text/plain; charset=utf-7")]
    public async Task A_part_in_a_charset_net_does_not_read_is_422_not_500(string headers)
    {
        // .NET refuses UTF-7 (SYSLIB0001), and the form reader threw NotSupportedException: a 500.
        var body = new ByteArrayContent([.. Encoding.ASCII.GetBytes($"--b\r\n{headers}\r\n\r\n"), .. Png, .. "\r\n--b--\r\n"u8.ToArray()]);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");

        var response = await app.Client.PostAsync("/api/v1/files", body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("character set", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0].GetProperty("msg").GetString());
    }

    [Fact]
    public async Task A_long_filename_keeps_its_last_255_utf8_bytes_whole_characters_only()
    {
        var record = await (await UploadAsync(Png, new string('画', 1000) + "😀.png")).Content.ReadFromJsonAsync<JsonElement>();

        var kept = record.GetProperty("filename").GetString()!;
        Assert.EndsWith("画😀.png", kept);
        Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(kept), 250, 255);
        Assert.DoesNotContain('\uFFFD', kept);

        var ascii = await (await UploadAsync(Png, new string('a', 300) + ".png")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(new string('a', 251) + ".png", ascii.GetProperty("filename").GetString()); // 255 bytes exactly

        // A cut that keeps a space or a dot at the start drops it.
        foreach (var before in new[] { ' ', '.' })
        {
            var cut = await (await UploadAsync(Png, "xxxxxxxxx" + before + new string('y', 250) + ".png")).Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(new string('y', 250) + ".png", cut.GetProperty("filename").GetString());
        }
    }

    [Fact]
    public async Task Files_list_newest_first_in_pages_with_uploads_and_generated_images_but_not_private_ones()
    {
        var uploaded = new List<string>();
        for (var i = 0; i < 3; i++)
            uploaded.Add((await (await UploadAsync(Png, $"page{i}.png")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("file_id").GetString()!);
        var generated = await app.GenerateAsync(new { prompt = "listed" });
        var generatedFile = generated.GetProperty("imageUrl").GetString()!.Split('/')[^2];
        var hidden = await app.GenerateAsync(new { prompt = "not listed", isPrivate = true });
        var hiddenFile = hidden.GetProperty("imageUrl").GetString()!.Split('/')[^2];

        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/files?limit=2{(token is null ? "" : "&continuation_token=" + Uri.EscapeDataString(token))}");
            Assert.Equal("list", page.GetProperty("object").GetString());
            var data = page.GetProperty("data").EnumerateArray().ToList();
            Assert.True(data.Count <= 2);
            seen.AddRange(data.Select(f => f.GetProperty("file_id").GetString()!));
            token = page.GetProperty("continuation_token").GetString();
            Assert.Equal(token is not null, page.GetProperty("has_more").GetBoolean());
        } while (token is not null);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(seen.OrderBy(id => id, StringComparer.Ordinal), seen);
        Assert.Equal([generatedFile, .. ((IEnumerable<string>)uploaded).Reverse()], seen.Where(id => uploaded.Contains(id) || id == generatedFile));
        Assert.DoesNotContain(hiddenFile, seen);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/files/{hiddenFile}")).StatusCode); // readable by id
    }

    [Fact]
    public async Task No_continuation_token_of_the_files_list_names_a_private_file()
    {
        // Private files between public ones, newest last: every walk of the list meets them in its pages.
        var hidden = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            await UploadAsync(Png, $"public{i}.png");
            for (var j = 0; j < 3; j++)
                hidden.Add((await app.GenerateAsync(new { prompt = $"private {i}.{j}", isPrivate = true })).GetProperty("imageUrl").GetString()!.Split('/')[^2]);
        }

        foreach (var limit in new[] { 1, 2, 3 })
        {
            string? token = null;
            for (var pages = 0; pages < 6; pages++)
            {
                var page = await app.Client.GetFromJsonAsync<JsonElement>(
                    $"/api/v1/files?limit={limit}{(token is null ? "" : "&continuation_token=" + Uri.EscapeDataString(token))}");
                token = page.GetProperty("continuation_token").GetString();
                if (token is null) break;
                // The token's outer layer is Base64url; a storage marker sent as it is shows a blob's name there.
                var opened = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token));
                Assert.DoesNotContain(hidden, id => opened.Contains(id[5..], StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task A_generated_files_record_names_its_model_provider_and_size()
    {
        var generated = await app.GenerateAsync(new { prompt = "whose image", model = "meta", aspectRatio = "16:9" });
        var fileId = generated.GetProperty("imageUrl").GetString()!.Split('/')[^2];

        var meta = (await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/files/{fileId}")).GetProperty("meta");

        Assert.Equal(("generated", "meta", "offline", 1024, 576), (meta.GetProperty("kind").GetString(), meta.GetProperty("model").GetString(),
            meta.GetProperty("provider").GetString(), meta.GetProperty("width").GetInt32(), meta.GetProperty("height").GetInt32()));
    }

    [Fact]
    public async Task Deleting_a_generated_file_takes_its_image_out_of_the_history()
    {
        var generated = await app.GenerateAsync(new { prompt = "delete my file" });
        var fileId = generated.GetProperty("imageUrl").GetString()!.Split('/')[^2];
        var file = await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/files/{fileId}");
        Assert.Equal("generated", file.GetProperty("meta").GetProperty("kind").GetString());

        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync($"/api/v1/files/{fileId}")).StatusCode);

        var history = await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history?limit=100");
        Assert.DoesNotContain(history.GetProperty("images").EnumerateArray(), i => i.GetProperty("id").GetInt64() == generated.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Five_deletes_of_one_generated_file_at_once_answer_one_200_and_four_404()
    {
        var generated = await app.GenerateAsync(new { prompt = "deleted five times at once" });
        var fileId = generated.GetProperty("imageUrl").GetString()!.Split('/')[^2];

        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => app.Client.DeleteAsync($"/api/v1/files/{fileId}")));

        // Was: 200 and four 409 "still being stored" (the others found its bytes, but its row already gone).
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.NotFound],
            answers.Select(a => a.StatusCode).Order());
    }

    [Fact]
    public async Task Forgetting_a_job_removes_its_inline_reference_copy_but_not_an_uploaded_reference()
    {
        var uploaded = (await (await UploadAsync(Png, "mine.png")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("file_id").GetString()!;
        var inlineJob = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = "inline ref", model = "nano-banana-2",
            referenceImageBase64 = Convert.ToBase64String(Png), referenceImageMime = "image/png" });
        var namedJob = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = "named ref", model = "nano-banana-2", referenceFileId = uploaded });
        var copy = (await app.ReferenceCopyOfAsync(inlineJob))!;
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/files/{copy}")).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync($"/api/v1/jobs/{inlineJob}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync($"/api/v1/jobs/{namedJob}")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync($"/api/v1/files/{copy}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/files/{uploaded}")).StatusCode);
    }

    [Fact]
    public async Task A_client_that_goes_away_once_its_request_is_sent_leaves_no_reference_copy_without_a_job()
    {
        var files = app.App.Services.GetRequiredKeyedService<BlobContainerClient>(StorageNames.FilesContainer);
        // Each copy with the job its metadata names.
        async Task<List<(string File, string? Job)>> ReferenceCopiesAsync()
        {
            var copies = new List<(string, string?)>();
            await foreach (var blob in files.GetBlobsAsync(new GetBlobsOptions { Traits = BlobTraits.Metadata }))
                if (blob.Metadata.TryGetValue("kind", out var kind) && kind == "reference") copies.Add((blob.Name, blob.Metadata.TryGetValue("job", out var job) ? job : null));
            return copies;
        }
        await app.App.Services.GetRequiredService<StorageBootstrap>().EnsureCreatedAsync(); // when this test runs first
        var earlier = await ReferenceCopiesAsync();
        var body = JsonSerializer.Serialize(new { prompt = "gone", model = "nano-banana-2",
            referenceImageBase64 = Convert.ToBase64String(Png), referenceImageMime = "image/png" });
        // Gives up at every point of a request's way, then waits longer until one request ends (a loaded machine is slower).
        var oneEnded = false;
        for (var wait = 0; wait < 30 || !oneEnded; wait++)
        {
            using var gone = new CancellationTokenSource(TimeSpan.FromMilliseconds(wait < 30 ? wait * 3 : 90 * Math.Pow(1.5, wait - 30)));
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/images/generate")
                { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("Prefer", "respond-async");
            try { using var _ = await app.Client.SendAsync(request, gone.Token); oneEnded = true; }
            catch (OperationCanceledException) { } // the client went away; the request may still be under way
        }

        // Every reference copy these requests made is owned by a (public) job, once the requests still running have ended.
        await Eventually.HoldsAsync(async () =>
        {
            var copies = (await ReferenceCopiesAsync()).Except(earlier).ToList();
            var jobs = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/jobs?limit=100");
            var listed = jobs.GetProperty("data").EnumerateArray().Select(j => j.GetProperty("id").GetString()).ToHashSet();
            return copies.Count > 0 && copies.All(copy => listed.Contains(copy.Job));
        }, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task No_answer_about_a_public_job_shows_the_id_of_its_private_reference_copy()
    {
        var uploaded = (await (await UploadAsync(Png, "shared.png")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("file_id").GetString()!;
        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "my own photo, as a painting", model = "nano-banana-2",
            referenceImageBase64 = Convert.ToBase64String(Png), referenceImageMime = "image/png" });
        var path = accepted.Headers.Location!.AbsolutePath;
        var copy = await app.ReferenceCopyOfAsync(path.Split('/')[^1]);
        Assert.NotNull(copy);

        var answers = new List<string> { await accepted.Content.ReadAsStringAsync(), await app.Client.GetStringAsync(path) };
        await JobsApiTests.PollAsync(app.Client, path);
        answers.Add(await app.Client.GetStringAsync(path));
        answers.Add(await app.Client.GetStringAsync("/api/v1/jobs?limit=100"));
        var named = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = "from the upload", model = "nano-banana-2", referenceFileId = uploaded });

        Assert.All(answers, answer => Assert.DoesNotContain(copy, answer));
        var parameters = JsonDocument.Parse(answers[2]).RootElement.GetProperty("params");
        Assert.Equal(JsonValueKind.Null, parameters.GetProperty("referenceFileId").ValueKind);
        Assert.Equal(Functions.Jobs.KiapiJobs.InlineReference, parameters.GetProperty("referenceImageBase64").GetString());
        // A file the client named is its own to show: an upload, listed anyway.
        Assert.Equal(uploaded, (await app.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{named}")).GetProperty("params").GetProperty("referenceFileId").GetString());
    }

    [Fact]
    public async Task A_jobs_private_reference_copy_cannot_be_named_by_another_generation()
    {
        var job = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = "owns its copy", model = "nano-banana-2",
            referenceImageBase64 = Convert.ToBase64String(Png), referenceImageMime = "image/png" });
        var copy = await app.ReferenceCopyOfAsync(job);
        Assert.NotNull(copy);

        var response = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "borrows it", model = "nano-banana-2", referenceFileId = copy });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("reference_not_found", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_uploaded_file_can_be_the_reference_of_a_generation()
    {
        var upload = await (await UploadAsync(Png, "ref.png")).Content.ReadFromJsonAsync<JsonElement>();
        var fileId = upload.GetProperty("file_id").GetString();

        var withFile = await app.GenerateAsync(new { prompt = "from a file", model = "nano-banana-2", referenceFileId = fileId });
        var inline = await app.GenerateAsync(new { prompt = "from a file", model = "nano-banana-2",
            referenceImageBase64 = Convert.ToBase64String(Png), referenceImageMime = "image/png" });
        var without = await app.GenerateAsync(new { prompt = "from a file", model = "nano-banana-2" });

        // The offline renderer derives its seed from the reference: the same image by id or inline, another one without.
        var bytes = await Task.WhenAll(new[] { withFile, inline, without }.Select(g => app.Client.GetByteArrayAsync(g.GetProperty("imageUrl").GetString())));
        Assert.Equal(bytes[1], bytes[0]);
        Assert.NotEqual(bytes[2], bytes[0]);
    }

    [Theory]
    [InlineData("image/jpeg", HttpStatusCode.BadRequest)]
    [InlineData("image/PNG", HttpStatusCode.OK)]
    public async Task A_referenceImageMime_sent_with_a_referenceFileId_must_name_the_files_type(string mime, HttpStatusCode status)
    {
        var fileId = (await (await UploadAsync(Png, "ref.png")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("file_id").GetString();

        var response = await app.Client.PostAsJsonAsync("/api/images/generate",
            new { prompt = "typed", model = "nano-banana-2", referenceFileId = fileId, referenceImageMime = mime });

        if (status == HttpStatusCode.OK) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        else Assert.Contains($"file {fileId} is image/png", (await GenerateImageTests.AssertKioaiError(response, status, "media_type_mismatch")).GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("{\"prompt\":\"x\",\"model\":\"nano-banana-2\",\"referenceFileId\":\"file_00ff00ff00ff00ff00ff\"}", "reference_not_found")]
    [InlineData("{\"prompt\":\"x\",\"model\":\"nano-banana-2\",\"referenceFileId\":\"photo.png\"}", "invalid_value")]
    [InlineData("{\"prompt\":\"x\",\"model\":\"nano-banana-2\",\"referenceFileId\":\"file_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "invalid_value")] // longer than any file id
    [InlineData("{\"prompt\":\"x\",\"model\":\"nano-banana-2\",\"referenceFileId\":7}", "invalid_type")]
    [InlineData("{\"prompt\":\"x\",\"model\":\"Qwen/Qwen-Image\",\"referenceFileId\":\"file_00ff00ff00ff00ff00ff\"}", "reference_not_supported")]
    [InlineData("{\"prompt\":\"x\",\"model\":\"nano-banana-2\",\"referenceFileId\":\"file_00ff00ff00ff00ff00ff\",\"referenceImageBase64\":\"iVBORw0KGgo=\"}", "conflicting_reference")]
    public async Task A_bad_referenceFileId_is_a_400_with_its_reason(string body, string error)
    {
        var response = await app.Client.PostAsync("/api/images/generate", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(error, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Uploads_that_are_not_a_supported_image_or_too_large_or_missing_are_refused_in_the_kiapi_shape()
    {
        await AssertDetailAsync(await UploadAsync("GIF89a\x01\0\x01\0"u8.ToArray(), "a.gif"), HttpStatusCode.UnsupportedMediaType);
        await AssertDetailAsync(await UploadAsync("%PDF-1.7 hello"u8.ToArray(), "image.png", "image/png"), HttpStatusCode.UnsupportedMediaType);
        await AssertDetailAsync(await UploadAsync([.. Png, .. new byte[10 * 1024 * 1024]], "big.png"), HttpStatusCode.RequestEntityTooLarge);
        await AssertDetailAsync(await app.Client.PostAsJsonAsync("/api/v1/files", new { file = "x" }), HttpStatusCode.UnsupportedMediaType);
        await AssertDetailAsync(await app.Client.PostAsync("/api/v1/files", new FormUrlEncodedContent([new("file", "x")])), HttpStatusCode.UnsupportedMediaType); // a form, but no multipart one

        using var wrongField = new MultipartFormDataContent { { new ByteArrayContent(Png), "image", "a.png" } };
        await AssertIssueAsync(await app.Client.PostAsync("/api/v1/files", wrongField), "missing");
        await AssertIssueAsync(await UploadAsync([], "empty.png"), "value_error");
        using var textField = new MultipartFormDataContent { { new StringContent("not a file"), "file" } };
        await AssertIssueAsync(await app.Client.PostAsync("/api/v1/files", textField), "value_error"); // there, but no file: not "missing"

        using var manyParts = new MultipartFormDataContent { { new ByteArrayContent(Png), "file", "a.png" } };
        for (var i = 0; i < 17; i++) manyParts.Add(new StringContent("v"), $"f{i}");
        await AssertIssueAsync(await app.Client.PostAsync("/api/v1/files", manyParts), "value_error"); // malformed, not too large

        using var twoFiles = new MultipartFormDataContent { { new ByteArrayContent(Png), "file", "a.png" }, { new ByteArrayContent(Png), "file", "b.png" } };
        await AssertIssueAsync(await app.Client.PostAsync("/api/v1/files", twoFiles), "value_error");
        using var fileAndText = new MultipartFormDataContent { { new ByteArrayContent(Png), "file", "a.png" }, { new StringContent("b.png"), "file" } };
        await AssertIssueAsync(await app.Client.PostAsync("/api/v1/files", fileAndText), "value_error"); // two 'file' fields, one not a file
        using var compressed = new MultipartFormDataContent { { new ByteArrayContent(Png), "file", "a.png" } };
        compressed.Headers.ContentEncoding.Add("gzip"); // was read as if not compressed, then refused as malformed
        await AssertDetailAsync(await app.Client.PostAsync("/api/v1/files", compressed), HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData(16, HttpStatusCode.OK)]
    [InlineData(17, HttpStatusCode.UnprocessableEntity)]
    public async Task A_multipart_body_of_16_parts_is_read_and_one_of_17_is_422(int parts, HttpStatusCode status)
    {
        using var body = new MultipartFormDataContent { { new ByteArrayContent(Png), "file", "a.png" } };
        for (var i = 1; i < parts; i++) body.Add(new StringContent("v"), $"f{i}");

        var response = await app.Client.PostAsync("/api/v1/files", body);

        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        if (status == HttpStatusCode.UnprocessableEntity)
            Assert.Contains("more than 16 parts", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0].GetProperty("msg").GetString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_multipart_body_with_more_than_16_KiB_before_its_first_part_or_after_its_last_is_422_and_says_so(bool before)
    {
        var part = Encoding.ASCII.GetBytes("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n")
            .Concat(Png).Concat(Encoding.ASCII.GetBytes("\r\n--b--\r\n")).ToArray();
        var text = Encoding.ASCII.GetBytes(new string('x', 20_000) + "\r\n");
        var body = new ByteArrayContent(before ? [.. text, .. part] : [.. part, .. text]);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");

        var response = await app.Client.PostAsync("/api/v1/files", body);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("text before its first part or after its last longer than 16 KiB",
            (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0].GetProperty("msg").GetString());
    }

    [Theory]
    [InlineData(0, HttpStatusCode.OK)]
    [InlineData(1, HttpStatusCode.RequestEntityTooLarge)]
    public async Task An_upload_of_10_MiB_is_stored_and_one_byte_more_is_413(int over, HttpStatusCode status)
    {
        // The longest name there is, as HttpClient sends it (filename and filename*): the framing does not count against the file.
        var response = await UploadAsync(TestImages.PngOfLength(10 * 1024 * 1024 + over), string.Concat(Enumerable.Repeat("😀", 64)) + ".png");

        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        if (status == HttpStatusCode.OK) Assert.Equal(10 * 1024 * 1024, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("size").GetInt64());
    }

    [Fact]
    public async Task A_records_created_at_keeps_the_milliseconds_its_id_was_made_in()
    {
        var record = await (await UploadAsync(Png, "now.png")).Content.ReadFromJsonAsync<JsonElement>();

        // The id's first 12 hex digits are the inverted milliseconds of its creation (FileIds).
        var milliseconds = 0xFFFF_FFFF_FFFFL - Convert.ToInt64(record.GetProperty("file_id").GetString()!["file_".Length..][..12], 16);
        Assert.Equal(milliseconds / 1000.0, record.GetProperty("created_at").GetDouble());
    }

    [Fact]
    public async Task An_upload_past_the_pixel_bounds_is_413_not_415()
    {
        await AssertDetailAsync(await UploadAsync(TestImages.PngDeclaring(100_000, 100_000), "huge.png"), HttpStatusCode.RequestEntityTooLarge);
    }

    [Theory]
    [InlineData("GET", "/api/v1/files/file_XYZ")]
    [InlineData("GET", "/api/v1/files/file_00FF00FF00FF00FF00FF")] // the contract's pattern is lower-case hex only
    [InlineData("DELETE", "/api/v1/files/nope")]
    [InlineData("GET", "/api/v1/files/file_" + Hex60 + "X")] // past the longest id, and not of the pattern: the pattern is what is told
    [InlineData("GET", "/api/v1/files/file_abc%0a")]
    [InlineData("GET", "/api/v1/files?limit=0")]
    [InlineData("GET", "/api/v1/files?limit=1%00")]
    [InlineData("GET", "/api/v1/files?continuation_token=")]
    [InlineData("GET", "/api/v1/files?continuation_token=zzz")]
    [InlineData("GET", "/api/v1/files?continuation_token=%00")]
    [InlineData("GET", "/api/v1/files?continuation_token=enp6")] // Base64url of "zzz": well-formed, but no token of this API
    [InlineData("GET", "/api/v1/files?continuation_token=am9iczphYmM")] // a jobs list's token
    [InlineData("GET", "/api/v1/files?continuation_token=ZmlsZXM6AA")] // "files:\0": once passed on, and Azurite answered 500
    [InlineData("GET", "/api/v1/files?continuation_token=ZmlsZXM6eA")] // "files:x": no check value, so not one of ours
    public async Task Malformed_file_ids_and_queries_get_422(string method, string url)
    {
        var response = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal(JsonValueKind.Array, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").ValueKind);
    }

    [Fact]
    public async Task An_unknown_file_is_404_in_the_kiapi_shape()
    {
        await AssertDetailAsync(await app.Client.GetAsync("/api/v1/files/file_00ff00ff00ff00ff00ff"), HttpStatusCode.NotFound);
        await AssertDetailAsync(await app.Client.DeleteAsync("/api/v1/files/file_00ff00ff00ff00ff00ff"), HttpStatusCode.NotFound);
        await AssertDetailAsync(await app.Client.GetAsync("/api/v1/files/file_" + Hex60[1..]), HttpStatusCode.NotFound); // 64: the longest looked up
        await AssertDetailAsync(await app.Client.GetAsync("/api/v1/files/file_" + Hex60), HttpStatusCode.NotFound); // 65: of the pattern, so no 422
    }

    const string Hex60 = "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff";

    Task<HttpResponseMessage> UploadAsync(byte[] bytes, string filename, string contentType = "image/png")
    {
        var part = new ByteArrayContent(bytes);
        part.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return app.Client.PostAsync("/api/v1/files", new MultipartFormDataContent { { part, "file", filename } });
    }

    [Fact]
    public async Task An_upload_without_one_multipart_content_type_is_told_what_it_sent()
    {
        using var twice = new ByteArrayContent("--XyZ\r\n"u8.ToArray());
        twice.Headers.TryAddWithoutValidation("Content-Type", ["multipart/form-data; boundary=XyZ", "multipart/form-data; boundary=XyZ"]);
        using var none = new ByteArrayContent("--XyZ\r\n"u8.ToArray());

        var sentTwice = await app.Client.PostAsync("/api/v1/files", twice);
        var sentNone = await app.Client.PostAsync("/api/v1/files", none);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, sentTwice.StatusCode);
        Assert.Contains("not as 'multipart/form-data; boundary=XyZ,multipart/form-data", // both, as the server joins them
            (await sentTwice.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, sentNone.StatusCode);
        Assert.Contains("no Content-Type", (await sentNone.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    static async Task AssertDetailAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(JsonValueKind.String, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").ValueKind);
    }

    static async Task AssertIssueAsync(HttpResponseMessage response, string type)
    {
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var issue = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail")[0];
        Assert.Equal(["body", "file"], issue.GetProperty("loc").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(type, issue.GetProperty("type").GetString());
    }
}
