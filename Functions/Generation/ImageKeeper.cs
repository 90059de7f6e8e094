using System.Globalization;
using Functions.Contracts.Kioai;
using Functions.Files;
using Functions.History;
using Functions.Storage;
using Polly;
using Polly.Retry;

namespace Functions.Generation;

/// <summary>
/// Keeps a generated image: its bytes as a file, then its history row. Two storage requests. Idempotent by key: a file
/// is created only if absent (a job's named after the job) and the history keeps one row per key, so a repeated store
/// (a retry after an outage, a job's Store run again) finds what the first wrote.
/// </summary>
public sealed class ImageKeeper(FileStore files, ImageHistory history, StorageBootstrap bootstrap, TimeProvider clock, ILogger<ImageKeeper> logger)
{
    /// <summary>How long an inline generation's store may wait out a storage outage before its client is answered 503.</summary>
    public static readonly TimeSpan InlineStoreBound = TimeSpan.FromSeconds(30);

    /// <summary>How long the removal of a file whose history row could not be written may take; past it, the orphan sweep removes the file.</summary>
    public static readonly TimeSpan CleanupBound = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Stores an inline generation's image under a new file id, which is also its history key. Once the image is made,
    /// a client that goes away no longer stops its storing: the upstream was paid for it, and a write cut off after the
    /// storage committed it would leave a history row without its file, or a file without its row. A storage outage is
    /// waited out as a job's store waits it out, for at most <see cref="InlineStoreBound"/> (a client is waiting); then
    /// the file is removed, so that none stays without its row, and a <see cref="StorageTimeoutException"/> is thrown.
    /// </summary>
    public async Task<JobResult> StoreAsync(GenerationRequest request, string provider, GeneratedImage image)
    {
        var fileId = FileIds.New(clock.GetUtcNow());
        using var bound = new CancellationTokenSource(InlineStoreBound, clock);
        try
        {
            await bootstrap.EnsureCreatedAsync(bound.Token);
            return await StoreOnceAsync(fileId, fileId, jobId: null, request, provider, image, bound.Token);
        }
        catch (Exception e)
        {
            await RemoveUnlistedFileAsync(fileId);
            if (bound.IsCancellationRequested)
                throw new StorageTimeoutException($"Storage did not take the image within {InlineStoreBound.TotalSeconds:0} s.", e);
            throw;
        }
    }

    // A row may have landed unseen: its file then stays with it (removing it would leave a row with a dead link).
    async Task RemoveUnlistedFileAsync(string fileId)
    {
        using var bound = new CancellationTokenSource(CleanupBound, clock);
        try
        {
            if (await history.FindByKeyAsync(fileId, bound.Token) is null) await files.DeleteAsync(fileId, bound.Token);
        }
        catch (Exception e) { logger.LogWarning("The file {FileId} of a failed generation could not be removed: {Reason}", fileId, e.Message); }
    }

    /// <summary>
    /// Stores a job's image under a file id made from the job id. The first write wins: a Store that runs again (Durable
    /// runs an activity at least once) keeps the file and history row the first one wrote, and answers with them.
    /// </summary>
    public Task<JobResult> StoreForJobAsync(string jobId, GenerationRequest request, string provider, GeneratedImage image,
        CancellationToken cancellationToken) =>
        StoreOnceAsync(FileIds.FileIdForJob(jobId), jobId, jobId, request, provider, image, cancellationToken);

    /// <summary>
    /// A job's image that an earlier run of its step stored before it was cut off (a crash between the store and the
    /// record of its answer): the job keeps it, its history row added if the cut came before it. Null when no image was stored.
    /// </summary>
    public async Task<JobResult?> FindStoredForJobAsync(string jobId, GenerationRequest request, ApiDebugInfo debug, CancellationToken cancellationToken) =>
        await files.GetAsync(FileIds.FileIdForJob(jobId), cancellationToken) is { } file
            ? await AddHistoryAsync(file, jobId, request, debug, cancellationToken)
            : null;

    // The image is paid for and held only here: a storage outage is waited out (2, 4, 8 s; the storage clients' own
    // retries are within a second) before the store fails: a job's next run, or an inline client's repeat, asks the
    // upstream again, and a synchronous provider bills that. Each try is idempotent by file id and history key, so a
    // write that landed unseen is found.
    readonly ResiliencePipeline _storageOutages = new ResiliencePipelineBuilder { TimeProvider = clock }.AddRetry(new RetryStrategyOptions
    {
        ShouldHandle = new PredicateBuilder().Handle<Exception>(StorageFaults.IsOutage),
        MaxRetryAttempts = 3, Delay = TimeSpan.FromSeconds(2), BackoffType = DelayBackoffType.Exponential,
    }).Build();

    async Task<JobResult> StoreOnceAsync(string fileId, string historyKey, string? jobId, GenerationRequest request, string provider,
        GeneratedImage image, CancellationToken cancellationToken) =>
        await _storageOutages.ExecuteAsync(async token =>
            await bootstrap.AgainIfLostAsync(() => StoreFileAsync(fileId, historyKey, jobId, request, provider, image, token), token), cancellationToken);

    async Task<JobResult> StoreFileAsync(string fileId, string historyKey, string? jobId, GenerationRequest request, string provider,
        GeneratedImage image, CancellationToken cancellationToken)
    {
        var metadata = MetadataOf(request, provider, image);
        if (jobId is not null) metadata[FileStore.JobKey] = jobId;
        var file = await files.TryCreateAsync(fileId, image.Bytes, image.ContentType, FilenameOf(fileId, image), clock.GetUtcNow(),
            request.IsPrivate, metadata, cancellationToken);
        if (file is not null)
        {
            if (jobId is not null) logger.LogInformation("Job {JobId} stored its image as {FileId}", jobId, fileId);
        }
        else
        {
            // Written by an earlier try whose answer was lost, or a job's earlier run. Gone again means it was removed
            // meanwhile (a job's cancel): fail this try, so that the next writes it or finds the job ended.
            file = await files.GetAsync(fileId, cancellationToken)
                ?? throw new InvalidOperationException($"The file {fileId} was removed while its image was stored.");
            if (jobId is not null) logger.LogInformation("Job {JobId} ran its store again; it keeps the image {FileId} stored first", jobId, fileId);
        }
        return await AddHistoryAsync(file, historyKey, request, image.Debug, cancellationToken);
    }

    static string FilenameOf(string fileId, GeneratedImage image) => $"{fileId}.{ImageFormats.ExtensionOf(image.ContentType)}";

    static Dictionary<string, string> MetadataOf(GenerationRequest request, string provider, GeneratedImage image)
    {
        var metadata = new ImageInfo(image.ContentType, image.Width, image.Height).Meta(FileKinds.Generated);
        metadata["model"] = request.Model;
        metadata["provider"] = provider;
        return metadata;
    }

    /// <summary>Adds the history row of a stored file (its size, type and dimensions are the file's) and answers with both.</summary>
    async Task<JobResult> AddHistoryAsync(StoredFile file, string key, GenerationRequest request, ApiDebugInfo debug,
        CancellationToken cancellationToken)
    {
        var entry = await history.AddAsync(new ImageEntry(0, file.FileId, request.Prompt, request.Style, request.AspectRatio, request.Model,
            request.IsPrivate, null, clock.GetUtcNow(), key), cancellationToken);
        int Dimension(string name) => int.TryParse(file.Meta.GetValueOrDefault(name), CultureInfo.InvariantCulture, out var n) ? n : 0;
        return new JobResult(entry.Id, file.FileId, file.Size, Dimension(FileStore.WidthKey), Dimension(FileStore.HeightKey), file.ContentType, entry.CreatedAt, debug);
    }

    /// <summary>Removes a file only a job used (its copy of an inline reference image) once the job is canceled or forgotten.</summary>
    public Task DiscardFileAsync(string fileId, CancellationToken cancellationToken) => files.DeleteAsync(fileId, cancellationToken);

    /// <summary>Undoes <see cref="StoreForJobAsync"/> for a job that ended otherwise (canceled, past its deadline): history row first, then the file.</summary>
    public async Task DiscardAsync(string jobId, CancellationToken cancellationToken)
    {
        var removed = await history.DeleteByKeyAsync(jobId, cancellationToken);
        var deleted = await files.DeleteAsync(FileIds.FileIdForJob(jobId), cancellationToken);
        if (removed is not null || deleted) logger.LogInformation("Job {JobId} ended without its image; the stored image was removed", jobId);
    }
}
