using System.Text.Json.Nodes;
using Functions.Files;
using Functions.Generation;
using Functions.History;
using Functions.Storage;
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
    public async Task Inline_stores_are_two_files_and_two_rows()
    {
        var first = await NewKeeper().StoreAsync(Request, "offline", Image(100, 64));
        var second = await NewKeeper().StoreAsync(Request, "offline", Image(100, 64));

        Assert.NotEqual(first.FileId, second.FileId);
        Assert.NotEqual(first.ImageId, second.ImageId);
    }
}
