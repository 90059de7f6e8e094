using Functions.Files;
using Functions.History;
using Functions.Jobs;
using Functions.Storage;

namespace Functions.Generation;

/// <summary>
/// Keeps a generated image: its bytes as a file, then its history row. Two storage requests. Idempotent by key: a job's
/// file is named after the job and the history keeps one row per key, so a repeated Store finds what the first wrote.
/// </summary>
public sealed class ImageKeeper(FileStore files, ImageHistory history, StorageBootstrap bootstrap, TimeProvider clock, ILogger<ImageKeeper> logger)
{
    /// <summary>Stores an inline generation's image under a new file id, which is also its history key.</summary>
    public async Task<JobResult> StoreAsync(GenerationRequest request, string provider, GeneratedImage image, CancellationToken cancellationToken)
    {
        var fileId = FileIds.New(clock.GetUtcNow());
        try
        {
            return await StoreAsync(fileId, fileId, request, provider, image, new Dictionary<string, string>(), cancellationToken);
        }
        catch (Exception)
        {
            // No file without its history row. (A job's Store is retried under the same name, then discarded.)
            try { await files.DeleteAsync(fileId, CancellationToken.None); }
            catch (Exception e) { logger.LogWarning("The file {FileId} of a failed generation could not be removed: {Reason}", fileId, e.Message); }
            throw;
        }
    }

    /// <summary>Stores a job's image; the file id comes from the job id, so a retried activity overwrites the same file.</summary>
    public Task<JobResult> StoreForJobAsync(string jobId, GenerationRequest request, string provider, GeneratedImage image,
        CancellationToken cancellationToken) =>
        StoreAsync(FileIds.FileIdForJob(jobId), jobId, request, provider, image, new Dictionary<string, string> { [FileStore.JobKey] = jobId },
            cancellationToken);

    async Task<JobResult> StoreAsync(string fileId, string key, GenerationRequest request, string provider, GeneratedImage image,
        Dictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        var now = clock.GetUtcNow();
        metadata["kind"] = "generated";
        metadata["model"] = request.Model;
        metadata["provider"] = provider;
        metadata["width"] = image.Width.ToString();
        metadata["height"] = image.Height.ToString();
        await files.SaveAsync(fileId, image.Bytes, image.ContentType, $"{fileId}.{ImageFormats.ExtensionOf(image.ContentType)}", now,
            request.IsPrivate, metadata, cancellationToken);
        var entry = await history.AddAsync(new ImageEntry(0, fileId, request.Prompt, request.Style, request.AspectRatio, request.Model,
            request.IsPrivate, null, now, key), cancellationToken);
        return new JobResult(entry.Id, fileId, image.Bytes.Length, image.Width, image.Height, image.ContentType, entry.CreatedAt, image.Debug);
    }

    /// <summary>Undoes <see cref="StoreForJobAsync"/> for a job that ended otherwise (canceled, past its deadline): history row first, then the file.</summary>
    public async Task DiscardAsync(string jobId, CancellationToken cancellationToken)
    {
        var removed = await history.DeleteByJobAsync(jobId, cancellationToken);
        var deleted = await files.DeleteAsync(FileIds.FileIdForJob(jobId), cancellationToken);
        if (removed is not null || deleted) logger.LogInformation("Job {JobId} ended without its image; the stored image was removed", jobId);
    }
}
