using Functions.Files;
using Functions.Generation;
using Functions.Hosting;
using Functions.Images;
using Functions.Storage;
using Microsoft.Extensions.Options;

namespace Functions.Jobs;

/// <summary>
/// Runs one delivery of a job message. Every step is idempotent and keyed by the job id, so a redelivery after a crash
/// resumes rather than repeats: the file's name comes from the job id, the history row is guarded by the job's marker,
/// and each state change is ETag-guarded.
/// </summary>
public sealed class JobWorker(
    JobStore jobs, FileStore files, ImageHistory history, JobCompletions completions, ProviderSelector providers,
    IOptions<WorkerOptions> options, TimeProvider clock, ILogger<JobWorker> logger)
{
    public async Task<WorkOutcome> ProcessAsync(string jobId, long dequeueCount, CancellationToken cancellationToken)
    {
        var job = JobIds.IsJobId(jobId) ? await jobs.GetForWorkAsync(jobId, cancellationToken) : null;
        if (job is null)
        {
            logger.LogWarning("Message for unknown job {JobId} dropped", jobId);
            return WorkOutcome.Done;
        }
        if (job.Status.IsTerminal())
        {
            completions.Complete(job);
            return WorkOutcome.Done;
        }
        if (dequeueCount > options.Value.MaxDequeueCount)
        {
            var reason = $"gave up after {dequeueCount - 1} attempts" + (job.Error is null ? "" : $": {job.Error}");
            await FinishAsync(job, j => j with { Status = JobStatus.Failed, ErrorCode = "attempts_exhausted", Error = reason }, cancellationToken);
            return WorkOutcome.Poison;
        }

        job = await UpdateAsync(job, j => j with
        {
            Status = JobStatus.Running, StartedAt = j.StartedAt ?? clock.GetUtcNow(), Attempts = j.Attempts + 1,
            ProgressLabel = "running", Progress = 0.1,
        }, cancellationToken);
        if (job is null || job.Status.IsTerminal()) return WorkOutcome.Done;

        try
        {
            var result = await GenerateAndStoreAsync(job, cancellationToken);
            await FinishAsync(job, j => j with { Status = JobStatus.Succeeded, Result = result, Error = null, ErrorCode = null }, cancellationToken);
            logger.LogInformation("Job {JobId} succeeded: image {ImageId}, {Bytes} bytes", job.Id, result.ImageId, result.ImageBytes);
            return WorkOutcome.Done;
        }
        catch (GenerationFailedException e)
        {
            logger.LogWarning("Job {JobId} failed: {Code} {Reason}", job.Id, e.Code, e.Message);
            await FinishAsync(job, j => j with { Status = JobStatus.Failed, ErrorCode = e.Code, Error = e.Message }, cancellationToken);
            return WorkOutcome.Done;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogError(e, "Job {JobId} attempt {Attempt} failed; it will be retried", job.Id, dequeueCount);
            await UpdateAsync(job, j => j with { Error = e.Message, ProgressLabel = "retrying" }, CancellationToken.None);
            return WorkOutcome.Retry;
        }
    }

    async Task<JobResult> GenerateAndStoreAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var request = job.Request;
        var provider = await providers.SelectAsync(request.Model, cancellationToken)
            ?? throw new GenerationFailedException("token_not_configured", "No upstream token is configured and the offline renderer is off.");

        byte[]? reference = null;
        if (request.ReferenceFileId is { } referenceId)
            reference = await files.ReadAllAsync(referenceId, cancellationToken)
                ?? throw new GenerationFailedException("reference_not_found", $"Reference file {referenceId} no longer exists.");

        var size = ImageDimensions.For(request.AspectRatio, request.Resolution);
        // A null array would convert to empty memory, not to "no reference".
        var image = await provider.GenerateAsync(new ProviderRequest(request, size, reference is null ? null : reference), cancellationToken);

        var fileId = FileIds.FileIdForJob(job.Id);
        var now = clock.GetUtcNow();
        await files.SaveAsync(fileId, image.Bytes, image.ContentType, $"{fileId}.{ImageFormats.ExtensionOf(image.ContentType)}", now,
            request.IsPrivate, new Dictionary<string, string>
            {
                ["kind"] = "generated", ["job"] = job.Id, ["model"] = request.Model, ["provider"] = provider.Name,
                ["width"] = image.Width.ToString(), ["height"] = image.Height.ToString(),
            }, cancellationToken);

        var entry = await history.AddAsync(new ImageEntry(0, fileId, request.Prompt, request.Style, request.AspectRatio, request.Model,
            request.IsPrivate, null, now, job.Id), cancellationToken);
        return new JobResult(entry.Id, fileId, image.Bytes.Length, image.Width, image.Height, image.ContentType, entry.CreatedAt, image.Debug);
    }

    async Task FinishAsync(JobRecord job, Func<JobRecord, JobRecord> change, CancellationToken cancellationToken)
    {
        var finished = await UpdateAsync(job, j => change(j) with
        {
            FinishedAt = clock.GetUtcNow(), Progress = 1, ProgressLabel = change(j).Status == JobStatus.Succeeded ? "done" : "failed",
        }, cancellationToken);
        if (finished is not null) completions.Complete(finished);
    }

    // Applies a change with the job's ETag; on a conflict re-reads and applies it again, unless the job has ended meanwhile.
    async Task<JobRecord?> UpdateAsync(JobRecord job, Func<JobRecord, JobRecord> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await jobs.ReplaceAsync(change(job), cancellationToken);
            }
            catch (StorageException e) when (e.IsPreconditionFailed && attempt < 5)
            {
                job = await jobs.GetAsync(job.Id, cancellationToken) ?? throw new InvalidOperationException($"Job {job.Id} vanished.");
                if (job.Status.IsTerminal()) return job;
            }
        }
    }
}
