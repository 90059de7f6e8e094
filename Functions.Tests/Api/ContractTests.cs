using System.Text.Json.Nodes;

namespace Functions.Tests.Api;

/// <summary>
/// Answers checked against the contracts' schemas (types, required fields, and no null where a field is not nullable),
/// from copies of ../shared/specs kept in Functions.Tests/Contracts.
/// </summary>
public sealed class ContractTests(AppFixture app) : IClassFixture<AppFixture>
{
    [SkippableTheory]
    [InlineData("kioai-api.openapi.yaml")]
    [InlineData("kiapi-common.openapi.json")]
    [InlineData("siliconflow-images.openapi.json")]
    public void The_contract_copies_are_the_shared_specs(string file)
    {
        var shared = Path.Combine(RepositoryRoot.Path, "..", "shared", "specs", file);
        Skip.IfNot(File.Exists(shared), $"No {shared} beside this clone: only the copies can be read.");
        Assert.Equal(File.ReadAllText(shared), File.ReadAllText(OpenApiContract.PathOf(file)));
    }

    [Fact]
    public async Task A_generate_answer_without_fallback_fits_GenerateImageResponse_and_has_no_fallbackReason()
    {
        var answer = await PostAsync("/api/images/generate", new { prompt = "a contract", style = "anime", aspectRatio = "3:2" });

        Assert.Empty(OpenApiContract.Kioai.Check(answer, "GenerateImageResponse"));
        Assert.False(answer["apiDebug"]!.AsObject().ContainsKey("fallbackReason"));
        Assert.False(answer["apiDebug"]!["usedFallback"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Kioai_answers_fit_their_schemas()
    {
        var generated = await PostAsync("/api/images/generate", new { prompt = "listed" });
        var history = await GetAsync("/api/images/history?limit=5");
        Assert.Empty(OpenApiContract.Kioai.Check(history, "ImageHistoryResponse"));
        Assert.Empty(OpenApiContract.Kioai.Check(await GetAsync("/api/healthz"), "HealthStatus"));
        Assert.Empty(OpenApiContract.Kioai.Check(await GetAsync("/api/config/token"), "TokenStatusResponse"));

        var deleted = await app.Client.DeleteAsync($"/api/images/{generated["id"]}");
        Assert.Empty(OpenApiContract.Kioai.Check(JsonNode.Parse(await deleted.Content.ReadAsStringAsync()), "SuccessResponse"));
        var error = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = " " });
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Empty(OpenApiContract.Kioai.Check(JsonNode.Parse(await error.Content.ReadAsStringAsync()), "ErrorResponse"));
    }

    [Fact]
    public async Task Kiapi_answers_fit_their_schemas()
    {
        var jobId = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = "a kiapi job" });
        var job = await GetAsync($"/api/v1/jobs/{jobId}");
        Assert.Empty(OpenApiContract.Kiapi.Check(job, "Job"));
        Assert.Empty(OpenApiContract.Kiapi.Check(await GetAsync("/api/v1/jobs?limit=3"), "JobListResponse"));
        var fileId = job["artifacts"]![0]!.GetValue<string>();
        Assert.Empty(OpenApiContract.Kiapi.Check(await GetAsync($"/api/v1/files/{fileId}"), "FileRecord"));
        Assert.Empty(OpenApiContract.Kiapi.Check(await GetAsync("/api/v1/files?limit=3"), "FileListResponse"));
        Assert.Empty(OpenApiContract.Kiapi.Check(await GetAsync("/api/health"), "HealthResponse"));
        var invalid = await app.Client.GetAsync("/api/v1/files/not-a-file-id");
        Assert.Empty(OpenApiContract.Kiapi.Check(JsonNode.Parse(await invalid.Content.ReadAsStringAsync()), "HTTPValidationError"));
    }

    [Fact]
    public void The_checker_finds_a_null_where_the_contract_types_a_string()
    {
        var answer = JsonNode.Parse("""
            {"id":1,"imageUrl":"u","prompt":"p","style":"s","aspectRatio":"1:1","model":"grok","createdAt":"2025-01-01T00:00:00Z",
             "apiDebug":{"requestUrl":"u","requestMethod":"POST","requestHeaders":{},"requestBody":{},"responseStatus":200,
             "responseBody":{},"durationMs":1.5,"usedFallback":false,"fallbackReason":null}}
            """);

        Assert.Equal(["$.apiDebug.fallbackReason: null, but the contract types it string without nullable"],
            OpenApiContract.Kioai.Check(answer, "GenerateImageResponse"));
        answer!["apiDebug"]!.AsObject().Remove("durationMs");
        Assert.Contains("$.apiDebug.durationMs: required, absent", OpenApiContract.Kioai.Check(answer, "GenerateImageResponse"));
    }

    async Task<JsonNode> PostAsync(string path, object body)
    {
        var response = await app.Client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!;
    }

    async Task<JsonNode> GetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Admin-Key", AppFixture.AdminKey);
        var response = await app.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }
}
