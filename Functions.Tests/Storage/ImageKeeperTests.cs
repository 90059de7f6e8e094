using System.Text.Json.Nodes;
using Functions.Files;
using Functions.Generation;
using Functions.History;
using Functions.Storage;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
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

    /// <summary>A keeper, its history and its files on this Azurite, every storage request of theirs going through <paramref name="transport"/>.</summary>
    sealed class KeeperOver : IDisposable
    {
        readonly ServiceProvider _services;

        public KeeperOver(StorageFixture storage, RecordingTransport transport, TimeProvider? clock = null)
        {
            _services = transport.AppStorage(storage.ConnectionString);
            History = new ImageHistory(_services.GetRequiredKeyedService<TableClient>(StorageNames.HistoryTable));
            Files = new FileStore(_services.GetRequiredKeyedService<BlobContainerClient>(StorageNames.FilesContainer));
            Keeper = new ImageKeeper(Files, History, _services.GetRequiredService<StorageBootstrap>(), clock ?? TimeProvider.System,
                NullLogger<ImageKeeper>.Instance);
        }

        public ImageKeeper Keeper { get; }
        public ImageHistory History { get; }
        public FileStore Files { get; }

        public void Dispose() => _services.Dispose();
    }

    [Fact]
    public async Task A_job_store_waits_out_a_storage_outage_instead_of_failing_its_activity_into_a_second_upstream_call()
    {
        var failures = 4; // the storage clients' 3 tries of the first write, and one more
        using var over = new KeeperOver(storage, new RecordingTransport(request => request.Method == Azure.Core.RequestMethod.Put
            && request.Uri.Path.Contains("/file_") && Interlocked.Decrement(ref failures) >= 0 ? RecordingTransport.Error(request, 503, "Server busy") : null));
        var jobId = "job_0" + Guid.NewGuid().ToString("N")[..20];

        var stored = await over.Keeper.StoreForJobAsync(jobId, Request, "openai", Image(100, 64), default);

        Assert.True(failures < 0, "the outage was not reached");
        Assert.Equal(stored.FileId, (await over.History.FindByKeyAsync(jobId, default))!.FileId);
    }

    [Fact]
    public async Task An_inline_store_waits_out_a_storage_outage_instead_of_losing_the_image_its_upstream_was_paid_for()
    {
        var request = Request with { Prompt = "outage waited out " + Guid.NewGuid() };
        var failures = 4; // the storage clients' 3 tries of the history transaction, and one more
        using var over = new KeeperOver(storage, new RecordingTransport(sent => RecordingTransport.IsTableTransaction(sent)
            && Interlocked.Decrement(ref failures) >= 0 ? RecordingTransport.Error(sent, 503, "Server busy") : null));

        var stored = await over.Keeper.StoreAsync(request, "openai", Image(100, 64));

        Assert.True(failures < 0, "the outage was not reached");
        var row = (await over.History.ListPublicAsync(100, 0, default)).Images.Single(i => i.Prompt == request.Prompt);
        Assert.Equal((stored.ImageId, stored.FileId), (row.Id, row.FileId));
        Assert.NotNull(await over.Files.GetAsync(stored.FileId, default)); // was: removed, and the client answered 503
    }

    [Fact]
    public async Task An_inline_store_whose_history_write_landed_unseen_keeps_the_file_its_row_points_at()
    {
        // The history transaction lands but its answer is lost, and storage then fails every retry: the store fails,
        // with a row written after all. Its file must stay with it (removing it would leave a row with a dead link).
        var request = Request with { Prompt = "landed unseen " + Guid.NewGuid() };
        var landed = 0;
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow); // the outage retries' waits pass at once
        using var over = new KeeperOver(storage, new RecordingTransport(
            sent => RecordingTransport.IsTableTransaction(sent) && Volatile.Read(ref landed) > 0 ? RecordingTransport.Error(sent, 503, "Server busy") : null,
            afterSending: sent => RecordingTransport.IsTableTransaction(sent) && Interlocked.Increment(ref landed) == 1
                ? RecordingTransport.Error(sent, 503, "Server busy") : null), clock);

        var store = over.Keeper.StoreAsync(request, "offline", Image(100, 64));
        for (var step = 0; step < 3_000 && !store.IsCompleted; step++)
        {
            await Task.Delay(5);
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        // Its tries ran out, or (the clock runs fast here) its bound passed: an outage either way, 503 to the client.
        Assert.True(StorageFaults.IsOutage(await Assert.ThrowsAnyAsync<Exception>(() => store)));

        var row = (await over.History.ListPublicAsync(100, 0, default)).Images.Single(i => i.Prompt == request.Prompt);
        Assert.NotNull(await over.Files.GetAsync(row.FileId, default));
    }

    [Fact]
    public async Task An_inline_store_whose_file_cannot_be_written_leaves_no_history_row()
    {
        var request = Request with { Prompt = "file refused " + Guid.NewGuid() };
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow); // the outage retries' waits pass at once
        using var over = new KeeperOver(storage, new RecordingTransport(sent => sent.Method == Azure.Core.RequestMethod.Put
            && sent.Uri.Path.Contains("/file_") ? RecordingTransport.Error(sent, 503, "Server busy") : null), clock);

        var store = over.Keeper.StoreAsync(request, "offline", Image(100, 64));
        for (var step = 0; step < 3_000 && !store.IsCompleted; step++)
        {
            await Task.Delay(5);
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        // Its tries ran out, or (the clock runs fast here) its bound passed: an outage either way, 503 to the client.
        Assert.True(StorageFaults.IsOutage(await Assert.ThrowsAnyAsync<Exception>(() => store)));

        Assert.DoesNotContain((await over.History.ListPublicAsync(100, 0, default)).Images, i => i.Prompt == request.Prompt);
    }

    [Fact]
    public async Task An_inline_store_on_storage_that_stopped_answering_gives_up_within_its_bound_and_keeps_neither_file_nor_row()
    {
        // Each hanging request costs the storage clients' network timeout three times, and the outage is tried 4 times:
        // without a bound of its own the client waited minutes (166 s seen through HTTP with Azurite stopped).
        var request = Request with { Prompt = "storage hangs " + Guid.NewGuid() };
        var provider = "hanging-" + Guid.NewGuid().ToString("N")[..8];
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var filesWritten = 0;
        using var over = new KeeperOver(storage, new RecordingTransport(_ => null,
            afterSending: sent => { if (sent.Method == Azure.Core.RequestMethod.Put && sent.Uri.Path.Contains("/file_")) Interlocked.Increment(ref filesWritten); return null; },
            hangs: RecordingTransport.IsTableTransaction), clock);

        var store = over.Keeper.StoreAsync(request, provider, Image(100, 64));
        for (var advanced = TimeSpan.Zero; advanced < ImageKeeper.InlineStoreBound; advanced += TimeSpan.FromSeconds(1))
        {
            await Task.Delay(5);
            Assert.False(store.IsCompleted, $"gave up after {advanced}");
            clock.Advance(TimeSpan.FromSeconds(1));
        }
        // The clock stands still from here: the removal of the file has its own bound, not reached on a quiet Azurite.
        var error = await Assert.ThrowsAsync<StorageTimeoutException>(() => store.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.True(StorageFaults.IsOutage(error)); // a 503 storage_unavailable to the client
        Assert.DoesNotContain((await over.History.ListPublicAsync(100, 0, default)).Images, i => i.Prompt == request.Prompt);
        Assert.Equal(1, filesWritten); // and removed again:
        await foreach (var file in over.Files.AllAsync(default))
            Assert.NotEqual(provider, file.Meta.GetValueOrDefault("provider"));
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
