using System.Diagnostics;
using Functions.Tests.Fakes;
using Functions.Tests.Storage;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection;

namespace Functions.Tests.Api;

/// <summary>The app on a storage account that answers every request with one status: a true seam, set the SDK's way (its transport).</summary>
public abstract class MisbehavingStorageFixture(int status) : AppFixture
{
    public const string StorageText = "The table 'idempotency' of account devstoreaccount1 refused this; RequestId:5c1d";

    /// <summary>The status storage answers with; a test may change it.</summary>
    public int Status { get; set; } = status;

    protected override bool KeepsLogs => true;

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddAzureClients(clients => clients.ConfigureDefaults(options => options.Transport = new RecordingTransport(request =>
            RecordingTransport.Error(request, Status, StorageText))));

    /// <summary>
    /// A generate (kioai) and a file listing (kiapi: it reads the app's own storage, where the jobs API reads the task
    /// hub's) both answer <paramref name="expected"/> within seconds, in their surface's shape, without the storage's text.
    /// </summary>
    public async Task AssertBothSurfacesAnswerAsync(HttpStatusCode expected, string kioaiCode)
    {
        var clock = Stopwatch.StartNew();
        var generate = await Client.PostAsJsonAsync("/api/images/generate", new { prompt = $"storage answers {Status}" });
        var files = await Client.GetAsync("/api/v1/files");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        // An outage says when to try again; a refusal (500) does not. Each answer on its own.
        var outage = expected == HttpStatusCode.ServiceUnavailable;
        Assert.Equal(outage, generate.Headers.RetryAfter is not null);
        Assert.Equal(outage, files.Headers.RetryAfter is not null);
        var kioai = await GenerateImageTests.AssertKioaiError(generate, expected, kioaiCode);
        Assert.DoesNotContain("RequestId", kioai.GetRawText());
        Assert.Equal(expected, files.StatusCode);
        var kiapi = await files.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.String, kiapi.GetProperty("detail").ValueKind);
        Assert.DoesNotContain("RequestId", kiapi.GetRawText());
        // The storage's request id stays out of the answers; the service's own names each, for a client's report.
        Assert.NotEqual(Assert.Single(generate.Headers.GetValues("X-Request-Id")), Assert.Single(files.Headers.GetValues("X-Request-Id")));
    }
}

public sealed class RefusingStorageFixture() : MisbehavingStorageFixture(400);

public sealed class FailingStorageFixture() : MisbehavingStorageFixture(503);

public sealed class RefusingStorageTests(RefusingStorageFixture app) : IClassFixture<RefusingStorageFixture>
{
    [Fact]
    public async Task A_storage_refusal_answers_500_at_once_in_each_surfaces_shape_without_the_storages_text()
    {
        await app.AssertBothSurfacesAnswerAsync(HttpStatusCode.InternalServerError, "internal_error");
        Assert.Contains(app.Logs, line => line.Contains(MisbehavingStorageFixture.StorageText)); // kept for whoever runs the service
    }
}

public sealed class FailingStorageTests(FailingStorageFixture app) : IClassFixture<FailingStorageFixture>
{
    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task A_storage_that_keeps_answering_a_5xx_makes_every_surface_answer_503_storage_unavailable_within_seconds(int status)
    {
        app.Status = status;
        await app.AssertBothSurfacesAnswerAsync(HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        // A passing outage is one warning line a request, not an error with its stack.
        Assert.Contains(app.Logs, line => line.StartsWith("Warning ") && line.Contains("answered 503 storage_unavailable: ") && !line.Contains("   at "));
        Assert.DoesNotContain(app.Logs, line => line.StartsWith("Error ") && line.Contains("storage"));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("DELETE")]
    public async Task A_token_change_storage_did_not_confirm_is_logged_for_the_audit_as_maybe_made(string method)
    {
        app.Status = 503;
        using var request = new HttpRequestMessage(new HttpMethod(method), "/api/config/providers/siliconflow/token")
        {
            Content = method == "POST" ? JsonContent.Create(new { token = "sk-unconfirmed-1234567890" }) : null,
            Headers = { { "X-Admin-Key", AppFixture.AdminKey } },
        };

        var response = await app.Client.SendAsync(request);

        await GenerateImageTests.AssertKioaiError(response, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
        // The write may have landed after the client's answer (a storage that was slow, not down): the audit says so.
        Assert.Contains(app.Logs, line => line.StartsWith("Warning ") && line.Contains($"The siliconflow token's {(method == "POST" ? "save" : "removal")}")
            && line.Contains("was not confirmed") && line.Contains("it may have been made"));
        Assert.DoesNotContain(app.Logs, line => line.Contains("sk-unconfirmed"));
    }
}

/// <summary>The app on real Azurite, except that storage refuses the history transaction (as it did a row too large).</summary>
public sealed class RefusedHistoryWriteFixture : AppFixture
{
    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddAzureClients(clients => clients.ConfigureDefaults(options => options.Transport = new RecordingTransport(request =>
            RecordingTransport.IsTableTransaction(request)
                ? RecordingTransport.Error(request, 400, MisbehavingStorageFixture.StorageText)
                : null)));
}

public sealed class RefusedHistoryWriteTests(RefusedHistoryWriteFixture app) : IClassFixture<RefusedHistoryWriteFixture>
{
    [Fact]
    public async Task A_refused_history_write_ends_the_generation_at_once_with_500_and_keeps_nothing()
    {
        var clock = Stopwatch.StartNew();
        var generate = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "refused by storage" });

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}"); // not after the queue's redeliveries
        var error = await GenerateImageTests.AssertKioaiError(generate, HttpStatusCode.InternalServerError, "internal_error");
        Assert.DoesNotContain("RequestId", error.GetRawText());
        Assert.Equal(0, (await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history")).GetProperty("total").GetInt64());
        Assert.Empty((await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/files")).GetProperty("data").EnumerateArray());
    }
}

/// <summary>The app on real Azurite, except that every file write lands but its answer is lost (503): a write storage applied after its client gave up.</summary>
public sealed class LostFileWriteAnswerFixture : AppFixture
{
    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddAzureClients(clients => clients.ConfigureDefaults(options => options.Transport = new RecordingTransport(_ => null,
            afterSending: request => request.Method == Azure.Core.RequestMethod.Put && request.Uri.Path.Contains("/file_", StringComparison.Ordinal)
                ? RecordingTransport.Error(request, 503, MisbehavingStorageFixture.StorageText)
                : null)));
}

public sealed class LostFileWriteAnswerTests(LostFileWriteAnswerFixture app) : IClassFixture<LostFileWriteAnswerFixture>
{
    [Fact]
    public async Task An_upload_whose_write_storage_did_not_confirm_answers_503_and_leaves_no_file_behind()
    {
        using var body = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Png(8, 8)), "file", "unconfirmed.png" } };

        var upload = await app.Client.PostAsync("/api/v1/files", body);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, upload.StatusCode); // "try again": and nothing of this try is kept
        Assert.Empty((await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/files")).GetProperty("data").EnumerateArray());
    }
}
