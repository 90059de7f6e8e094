namespace Functions.Tests.Processes;

/// <summary>
/// A temporary directory the service cannot write (here: missing), where large bodies are spooled while they arrive:
/// the service's fault, answered 503 in each surface's shape without the server's path, and logged with it. It was a
/// 400 "could not be read" quoting the path on generate, and a 422 "not well-formed multipart" on upload.
/// </summary>
public sealed class TemporaryDirectoryTests : IAsyncLifetime
{
    const string Missing = "/nonexistent-temporary-directory";
    Azurite _azurite = null!;
    AppProcess _app = null!;

    public async Task InitializeAsync()
    {
        _azurite = await AzuritePool.RentAsync();
        _app = await AppProcess.StartAsync(AppProcess.BuiltDll, _azurite.ConnectionString,
            new Dictionary<string, string> { ["TMPDIR"] = Missing, ["ASPNETCORE_TEMP"] = Missing });
    }

    [Fact]
    public async Task A_large_body_that_cannot_be_spooled_answers_503_in_its_surfaces_shape_and_is_logged()
    {
        using var client = _app.CreateClient();
        var image = TestImages.PngOfLength(1024 * 1024); // in Base64, a generate body over RequestBody.SpoolAboveBytes
        var generate = await client.PostAsJsonAsync("/api/images/generate", new { prompt = "spooled", referenceImageBase64 = Convert.ToBase64String(image) });
        using var form = new MultipartFormDataContent { { new ByteArrayContent(image), "file", "big.png" } };
        var upload = await client.PostAsync("/api/v1/files", form);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, generate.StatusCode);
        Assert.Equal("server_busy", (await generate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, upload.StatusCode);
        Assert.Equal(JsonValueKind.String, (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").ValueKind);
        foreach (var answer in new[] { generate, upload }) Assert.DoesNotContain(Missing, await answer.Content.ReadAsStringAsync());
        await Eventually.HoldsAsync(() => Task.FromResult(_app.FailLines.Count(line => line.Contains(Missing)) >= 2));
        // The first with its stack, the second in one line: a full disk fails every large body until someone frees it.
        Assert.Equal(2, _app.FailLines.Count(line => line.Contains(Missing)));
        Assert.Single(_app.FailLines, line => line.Contains(Missing) && line.Contains("(the temporary directory's fault; its stack is logged once a minute)"));
        // Each failure's lines carry the request id its answer named (the console shows the request's scope).
        foreach (var answer in new[] { generate, upload })
            Assert.Contains(_app.Output, line => line.Contains("RequestId:" + Assert.Single(answer.Headers.GetValues("X-Request-Id"))));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await AzuritePool.ReturnAsync(_azurite);
    }
}
