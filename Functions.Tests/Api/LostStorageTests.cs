using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Functions.Storage;

namespace Functions.Tests.Api;

/// <summary>An app of its own: these tests delete its container and tables under it.</summary>
public sealed class LostStorageFixture : AppFixture;

/// <summary>Storage that loses the service's container or tables (deleted by hand, an emulator restarted empty) is an outage the service recovers from.</summary>
public sealed class LostStorageTests(LostStorageFixture app) : IClassFixture<LostStorageFixture>
{
    [Fact]
    public async Task A_lost_container_and_table_answer_503_once_then_are_made_again()
    {
        await app.GenerateAsync(new { prompt = "before the loss" });
        await new BlobServiceClient(app.Azurite.ConnectionString).DeleteBlobContainerAsync(StorageNames.FilesContainer);
        await new TableServiceClient(app.Azurite.ConnectionString).DeleteTableAsync(StorageNames.HistoryTable);

        var lost = await app.Client.PostAsJsonAsync("/api/images/generate", new { prompt = "finds them gone" });
        await GenerateImageTests.AssertKioaiError(lost, HttpStatusCode.ServiceUnavailable, "storage_unavailable");

        var again = await app.GenerateAsync(new { prompt = "after the loss" });
        var history = await app.Client.GetFromJsonAsync<JsonElement>("/api/images/history");
        Assert.Equal(again.GetProperty("id").GetInt64(), history.GetProperty("images")[0].GetProperty("id").GetInt64());
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync(new Uri(again.GetProperty("imageUrl").GetString()!).AbsolutePath)).StatusCode);
    }

    [Fact]
    public async Task Health_reports_a_lost_table_then_makes_it_again()
    {
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/healthz")).StatusCode);
        await new TableServiceClient(app.Azurite.ConnectionString).DeleteTableAsync(StorageNames.SettingsTable);

        var lost = await app.Client.GetAsync("/api/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, lost.StatusCode);
        Assert.Equal("unavailable", (await lost.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/healthz")).StatusCode);
    }
}
