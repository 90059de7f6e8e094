using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Functions.Files;
using Functions.Maintenance;
using Functions.Tests.Maintenance;
using Functions.Storage;
using Microsoft.DurableTask.Client;

namespace Functions.Tests.Api;

/// <summary>An app of its own: these tests delete its container and tables under it.</summary>
public sealed class LostStorageFixture : AppFixture;

/// <summary>Storage that loses the service's container or tables (deleted by hand, an emulator restarted empty) is an outage the service recovers from.</summary>
public sealed class LostStorageTests(LostStorageFixture app) : IClassFixture<LostStorageFixture>
{
    [Fact]
    public async Task A_read_that_finds_the_container_lost_answers_503_once_then_it_is_made_again()
    {
        await app.GenerateAsync(new { prompt = "before the loss" });
        await LoseAsync();

        var lost = await app.Client.GetAsync("/api/v1/files");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, lost.StatusCode);
        Assert.Equal(JsonValueKind.String, (await lost.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").ValueKind);

        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/v1/files")).StatusCode);
    }

    [Fact]
    public async Task An_image_is_stored_though_its_container_and_table_were_lost_since()
    {
        await app.GenerateAsync(new { prompt = "before the loss" });
        await LoseAsync();

        var image = await app.GenerateAsync(new { prompt = "an image already made is not thrown away" });

        var history = await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history");
        Assert.Equal(image.GetProperty("id").GetInt64(), history.GetProperty("images")[0].GetProperty("id").GetInt64());
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync(new Uri(image.GetProperty("imageUrl").GetString()!).AbsolutePath)).StatusCode);
    }

    [Fact]
    public async Task A_jobs_image_is_stored_though_its_container_was_lost_since()
    {
        await app.GenerateAsync(new { prompt = "before the loss" });
        await LoseAsync();

        var accepted = await JobsApiTests.SubmitAsyncAsync(app.Client, new { prompt = "a job after the loss" });
        var job = await JobsApiTests.PollAsync(app.Client, accepted.Headers.Location!.AbsolutePath);

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var fileId = job.GetProperty("result").GetProperty("file_id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync($"/api/v1/files/{fileId}/download")).StatusCode);
    }

    [Fact]
    public async Task The_orphan_sweep_on_lost_storage_makes_it_again_and_removes_nothing()
    {
        await app.GenerateAsync(new { prompt = "before the loss" });
        await LoseAsync();

        var removed = await app.Service<OrphanFiles>().SweepAsync(app.Service<DurableTaskClient>(), default);

        Assert.Empty(removed);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/v1/files")).StatusCode); // made again: no 503 left for a client
    }

    [Fact]
    public async Task The_orphan_sweep_after_the_history_table_is_lost_keeps_the_images_it_no_longer_lists()
    {
        await app.GenerateAsync(new { prompt = "before the loss" }); // storage made again, should an earlier test have lost it
        var before = await OrphanFilesTests.StoreAsync(app, FileKinds.Generated); // an hour old: its history row is the one lost
        await new TableServiceClient(app.Azurite.ConnectionString).DeleteTableAsync(StorageNames.HistoryTable);

        var sweep = app.Service<OrphanFiles>();
        Assert.DoesNotContain(before, await sweep.SweepAsync(app.Service<DurableTaskClient>(), default)); // the table made again, empty
        await app.GenerateAsync(new { prompt = "the first image of the history made again" });
        Assert.DoesNotContain(before, await sweep.SweepAsync(app.Service<DurableTaskClient>(), default));

        Assert.NotNull(await app.Service<FileStore>().GetAsync(before, default));
    }

    Task LoseAsync() => Task.WhenAll(
        new BlobServiceClient(app.Azurite.ConnectionString).DeleteBlobContainerAsync(StorageNames.FilesContainer),
        new TableServiceClient(app.Azurite.ConnectionString).DeleteTableAsync(StorageNames.HistoryTable));

    [Fact]
    public async Task Health_reports_a_lost_table_then_makes_it_again()
    {
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/healthz")).StatusCode);
        await new TableServiceClient(app.Azurite.ConnectionString).DeleteTableAsync(StorageNames.SettingsTable);

        var lost = await app.Client.GetAsync("/api/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, lost.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(5), lost.Headers.RetryAfter?.Delta);
        Assert.Equal("unavailable", (await lost.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/healthz")).StatusCode);
    }
}
