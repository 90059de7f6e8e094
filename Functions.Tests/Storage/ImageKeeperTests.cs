using System.Text.Json.Nodes;
using Functions.Files;
using Functions.Generation;
using Functions.History;
using Functions.Storage;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Functions.Tests.Storage;

public sealed class ImageKeeperTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    ImageKeeper NewKeeper() => new(new FileStore(storage.Files), new ImageHistory(storage.Table(StorageNames.HistoryTable)), storage.Bootstrap,
        TimeProvider.System, NullLogger<ImageKeeper>.Instance);

    static readonly GenerationRequest Request = new("a lighthouse", "realistic", "1:1", "offline", null, false, null, null);

    static GeneratedImage Image(int bytes, int side) => new(new byte[bytes], "image/png", side, side,
        ApiDebugRedaction.Create("offline://render", "POST", [], new JsonObject(), 200, new JsonObject(), TimeSpan.Zero));

    [Fact]
    public async Task A_job_store_that_runs_again_keeps_the_first_image_and_its_one_history_row()
    {
        var jobId = "job_0" + Guid.NewGuid().ToString("N")[..20];
        var history = new ImageHistory(storage.Table(StorageNames.HistoryTable));
        var before = (await history.ListPublicAsync(1, 0, default)).Total;

        var first = await NewKeeper().StoreForJobAsync(jobId, Request, "offline", Image(100, 64), default);
        var again = await NewKeeper().StoreForJobAsync(jobId, Request, "offline", Image(300, 128), default); // e.g. another process

        Assert.Equal(first with { ApiDebug = again.ApiDebug }, again);
        Assert.Equal((100, 64, 64), (again.ImageBytes, again.Width, again.Height));
        Assert.Equal(100, (await new FileStore(storage.Files).ReadAllAsync(first.FileId, default))!.Length);
        Assert.Equal(before + 1, (await history.ListPublicAsync(1, 0, default)).Total);
    }

    [Fact]
    public async Task A_job_store_waits_out_a_storage_outage_instead_of_failing_its_activity_into_a_second_upstream_call()
    {
        var failures = 4; // the storage clients' 3 tries of the first write, and one more
        var transport = new RecordingTransport(request => request.Method == Azure.Core.RequestMethod.Put && request.Uri.Path.Contains("/file_")
            && Interlocked.Decrement(ref failures) >= 0 ? RecordingTransport.Error(request, 503, "Server busy") : null);
        var collection = new ServiceCollection().AddLogging()
            .AddAppStorage(IdentityAuthTests.Settings(("AzureWebJobsStorage", storage.ConnectionString)));
        collection.AddAzureClients(clients => clients.ConfigureDefaults(options => options.Transport = transport));
        using var services = collection.BuildServiceProvider();
        var history = new ImageHistory(services.GetRequiredKeyedService<TableClient>(StorageNames.HistoryTable));
        var keeper = new ImageKeeper(new FileStore(services.GetRequiredKeyedService<BlobContainerClient>(StorageNames.FilesContainer)), history,
            services.GetRequiredService<StorageBootstrap>(), TimeProvider.System, NullLogger<ImageKeeper>.Instance);
        var jobId = "job_0" + Guid.NewGuid().ToString("N")[..20];

        var stored = await keeper.StoreForJobAsync(jobId, Request, "openai", Image(100, 64), default);

        Assert.True(failures < 0, "the outage was not reached");
        Assert.Equal(stored.FileId, (await history.FindByJobAsync(jobId, default))!.FileId);
    }

    [Fact]
    public async Task Inline_stores_are_two_files_and_two_rows()
    {
        var first = await NewKeeper().StoreAsync(Request, "offline", Image(100, 64));
        var second = await NewKeeper().StoreAsync(Request, "offline", Image(100, 64));

        Assert.NotEqual(first.FileId, second.FileId);
        Assert.NotEqual(first.ImageId, second.ImageId);
    }
}
