using Azure.Data.Tables;
using Functions.Files;
using Functions.Generation;
using Functions.History;
using Functions.Jobs;
using Functions.LocalHost;
using Functions.Maintenance;
using Functions.Storage;
using Functions.Tests.Api;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace Functions.Tests.Maintenance;

/// <summary>
/// The orphan sweep, on the real app and its Durable backend: it removes a generated image without its history row
/// (once its job has ended) and a reference copy whose job never appeared, and nothing a client or a job still owns.
/// </summary>
public sealed class OrphanFilesTests(AppFixture app) : IClassFixture<AppFixture>
{
    static readonly byte[] Png = TestImages.Png(8, 8);
    internal static readonly DateTimeOffset LongAgo = DateTimeOffset.UtcNow - OrphanFiles.MinimumAge - TimeSpan.FromMinutes(5);

    FileStore Files => app.Service<FileStore>();
    DurableTaskClient Durable => app.Service<DurableTaskClient>();

    Task<string> StoreAsync(string kind, string? jobId = null, DateTimeOffset? createdAt = null, string? fileId = null) =>
        StoreAsync(app, kind, jobId, createdAt, fileId);

    /// <summary>A file as the app's writers store it, dated <see cref="LongAgo"/> unless told, in a history that began before it.</summary>
    internal static async Task<string> StoreAsync(AppFixture app, string kind, string? jobId = null, DateTimeOffset? createdAt = null, string? fileId = null)
    {
        fileId ??= FileIds.New(DateTimeOffset.UtcNow);
        var meta = new Dictionary<string, string> { [FileKinds.MetadataKey] = kind };
        if (jobId is not null) meta[FileStore.JobKey] = jobId;
        // As the app's writers do before they store a file (when this is the class's first test, nothing has yet).
        await app.Service<StorageBootstrap>().EnsureCreatedAsync();
        await HistoryBeganLongAgoAsync(app);
        await app.Service<FileStore>().SaveAsync(fileId, Png, "image/png", "x.png", createdAt ?? LongAgo, isPrivate: kind == FileKinds.Reference, meta);
        return fileId;
    }

    // The sweep judges a file only by a history that began before it (CounterRow.KeptSince); these files are dated an
    // hour back, so their history is dated a day back, as a deployment's would be. (The counter row's keys: ImageHistory.)
    static Task HistoryBeganLongAgoAsync(AppFixture app) =>
        app.Service<IServiceProvider>().GetRequiredKeyedService<TableClient>(StorageNames.HistoryTable).UpsertEntityAsync(
            new TableEntity("history", "counter") { [nameof(CounterRow.KeptSince)] = LongAgo - TimeSpan.FromDays(1) }, TableUpdateMode.Merge);

    [Fact]
    public async Task A_sweep_removes_only_files_nothing_owns_any_more()
    {
        var endedJob = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = "ended" });
        // Its image deleted, all but the bytes (storage failed the file's delete), which come back as they were.
        var endedJobFile = FileIds.FileIdForJob(endedJob);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.DeleteAsync($"/api/v1/files/{endedJobFile}")).StatusCode);
        // A job (never run here) whose history row names another file: the row does not own this one.
        var rowElsewhere = JobIds.New(DateTimeOffset.UtcNow, false);
        await app.Service<ImageHistory>().AddAsync(
            new ImageEntry(0, FileIds.New(DateTimeOffset.UtcNow), "elsewhere", "none", "1:1", "grok", false, null, LongAgo, rowElsewhere), default);
        var orphans = new[]
        {
            await StoreAsync(FileKinds.Generated), // an inline generation whose history row was never written
            await StoreAsync(FileKinds.Generated, jobId: endedJob, fileId: endedJobFile), // of a job that ended, its row gone
            await StoreAsync(FileKinds.Reference, jobId: JobIds.New(DateTimeOffset.UtcNow, false)), // its job never appeared
            await StoreAsync(FileKinds.Reference, jobId: endedJob), // its job has ended: nothing reads it again
            await StoreAsync(FileKinds.Generated, jobId: rowElsewhere),
        };
        var withRow = await StoreAsync(FileKinds.Generated);
        await app.Service<ImageHistory>().AddAsync(new ImageEntry(0, withRow, "kept", "none", "1:1", "grok", false, null, LongAgo, withRow), default);
        var owned = new[]
        {
            withRow,
            await StoreAsync(FileKinds.Reference), // a copy from before copies named their job: which job owns it is unknown
            // Past the day a copy is looked at: its job would have appeared long ago (see ReferenceCheckedUntil).
            await StoreAsync(FileKinds.Reference, jobId: JobIds.New(DateTimeOffset.UtcNow, false),
                createdAt: DateTimeOffset.UtcNow - OrphanFiles.ReferenceCheckedUntil - TimeSpan.FromMinutes(5)),
            await StoreAsync(FileKinds.Upload), // a client's
            await StoreAsync(FileKinds.Generated, createdAt: DateTimeOffset.UtcNow), // its store may be under way
            // Past any store in progress, but not yet an hour old.
            await StoreAsync(FileKinds.Generated, createdAt: DateTimeOffset.UtcNow - OrphanFiles.MinimumAge + TimeSpan.FromMinutes(5)),
        };

        var removed = await app.Service<OrphanFiles>().SweepAsync(Durable, default);

        Assert.Equal(orphans.Order(), removed.Order());
        foreach (var fileId in orphans) Assert.Null(await Files.GetAsync(fileId, default));
        foreach (var fileId in owned) Assert.NotNull(await Files.GetAsync(fileId, default));
        Assert.Empty(await app.Service<OrphanFiles>().SweepAsync(Durable, default));
    }

    [Theory]
    [InlineData(OrchestrationRuntimeStatus.Running, false)]
    [InlineData(OrchestrationRuntimeStatus.Pending, false)]
    [InlineData(OrchestrationRuntimeStatus.Suspended, false)]
    [InlineData(OrchestrationRuntimeStatus.Completed, true)]
    [InlineData(OrchestrationRuntimeStatus.Failed, true)]
    [InlineData(OrchestrationRuntimeStatus.Terminated, true)]
    public async Task A_jobs_image_without_its_row_and_its_reference_copy_stay_while_the_job_may_still_need_them(OrchestrationRuntimeStatus status, bool removed)
    {
        // A job held in one state is simpler to reach on a mocked client than on the engine (the storage is the real one).
        var jobId = JobIds.New(DateTimeOffset.UtcNow, false);
        var durable = new Mock<DurableTaskClient>("test");
        durable.Setup(d => d.GetInstanceAsync(jobId, false, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new OrchestrationMetadata(GenerationOrchestrator.Name, jobId) { RuntimeStatus = status });
        // Its Store may still write the image's row; its Submit (or the next model's) may still read the reference.
        string[] fileIds = [await StoreAsync(FileKinds.Generated, jobId: jobId, fileId: FileIds.FileIdForJob(jobId)), await StoreAsync(FileKinds.Reference, jobId: jobId)];

        var swept = await app.Service<OrphanFiles>().SweepAsync(durable.Object, default);

        foreach (var fileId in fileIds)
        {
            Assert.Equal(removed, swept.Contains(fileId));
            Assert.Equal(removed, await Files.GetAsync(fileId, default) is null);
            await Files.DeleteAsync(fileId, default); // it has no job on the real engine, where another sweep would take it for an orphan
        }
    }

    [Fact]
    public void The_sweep_runs_every_hour_at_minute_17_UTC()
    {
        var sweep = FunctionCatalog.Of(typeof(SweepOrphanFiles).Assembly, new HostJson("api", "Hub", 1)).Timers.Single(t => t.Name == nameof(SweepOrphanFiles));
        var first = new DateTimeOffset(2026, 11, 26, 23, 17, 0, TimeSpan.Zero); // a Thursday, the day before a month's end

        var runs = new List<DateTimeOffset> { sweep.Schedule!.Next(first.AddMinutes(-30)) };
        while (runs.Count < 24 * 8) runs.Add(sweep.Schedule.Next(runs[^1]));

        Assert.Equal(Enumerable.Range(0, 24 * 8).Select(hours => first.AddHours(hours)), runs);
    }

    [Fact]
    public async Task A_reference_copy_names_its_job_so_that_a_sweep_can_tell_whose_it_is()
    {
        var job = await JobsApiTests.SubmitAndFinishAsync(app.Client, new { prompt = "with a reference", model = "nano-banana-2",
            referenceImageBase64 = Convert.ToBase64String(Png), referenceImageMime = "image/png" });
        var copy = await app.ReferenceCopyOfAsync(job); // the reference file whose metadata names the job

        Assert.NotNull(copy);
        Assert.True((await Files.GetAsync(copy, default))!.IsPrivate);
    }
}
