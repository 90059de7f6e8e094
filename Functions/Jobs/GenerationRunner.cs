using Azure;
using Functions.Files;
using Functions.Generation;
using Functions.Generation.Providers;
using Functions.Images;
using Microsoft.Extensions.Options;

namespace Functions.Jobs;

/// <summary>Where a run left its job: ended with a result, or waiting upstream with a check scheduled after a delay.</summary>
public sealed record RunStep(JobResult? Result, int Check = 0, TimeSpan Delay = default);

/// <summary>
/// Moves one job forward by one step: submits to the current model of its plan, or checks the upstream task it already
/// submitted; on a retryable failure moves along the fallback chain; stores the image once there is one. Progress is
/// saved in the job's <see cref="UpstreamCheckpoint"/> before anything is scheduled, so a restart resumes it.
/// </summary>
public sealed class GenerationRunner(
    ProviderSelector providers, JobStore jobs, FileStore files, ImageHistory history, IOptions<UpstreamOptions> options,
    TimeProvider clock, ILogger<GenerationRunner> logger)
{
    readonly UpstreamOptions _options = options.Value;

    /// <summary>Null when another delivery advanced the job meanwhile (this one was a stale duplicate).</summary>
    public async Task<RunStep?> RunAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var request = job.Request;
        var plan = await providers.PlanAsync(request.Model, cancellationToken);
        if (plan.Count == 0)
            throw new GenerationFailedException(GenerationErrors.TokenNotConfigured, "No upstream token is configured and the offline renderer is off.");

        var checkpoint = job.Upstream ?? new UpstreamCheckpoint(plan[0].Model, plan[0].Provider.Name);
        var index = plan.ToList().FindIndex(p => p.Model == checkpoint.Model && p.Provider.Name == checkpoint.Provider);
        if (index < 0)
            throw new GenerationFailedException(GenerationErrors.TokenNotConfigured, $"The token for {checkpoint.Provider} was removed while the job ran.");

        // A null array would convert to empty memory, not to "no reference".
        var reference = await ReferenceAsync(request, cancellationToken);
        var input = new ProviderRequest(request, ImageDimensions.For(request.AspectRatio, request.Resolution),
            reference is null ? (ReadOnlyMemory<byte>?)null : reference);
        while (true)
        {
            var planned = plan[index];
            var call = new ProviderCall(input, planned.Model, planned.Entry, planned.Token);
            ProviderStep step;
            try
            {
                if (checkpoint.TaskId is { } taskId)
                {
                    if (clock.GetUtcNow() > checkpoint.DeadlineAt)
                        throw new GenerationFailedException(GenerationErrors.UpstreamTimeout,
                            $"{planned.Model} did not finish within {_options.DeadlineSeconds:0} s (Upstream:DeadlineSeconds).");
                    step = await planned.Provider.CheckAsync(call, taskId, cancellationToken);
                }
                else
                {
                    step = await planned.Provider.SubmitAsync(call, cancellationToken);
                }
            }
            catch (GenerationFailedException e) when (e.Retryable && index + 1 < plan.Count)
            {
                index++;
                logger.LogWarning("Job {JobId}: {Model} failed ({Code}: {Reason}); falling back to {Next}", job.Id, planned.Model, e.Code, e.Message, plan[index].Model);
                checkpoint = new UpstreamCheckpoint(plan[index].Model, plan[index].Provider.Name, DeadlineAt: checkpoint.DeadlineAt,
                    FallbackReason: Join(checkpoint.FallbackReason, $"{planned.Model}: {e.Message}"), Checks: checkpoint.Checks);
                job = await SaveAsync(job, checkpoint, job.Progress, cancellationToken) ?? throw new StaleDeliveryException();
                continue;
            }
            catch (GenerationFailedException e) when (planned.Provider is not OfflineRenderer)
            {
                // The job ends here: say which model failed, and what happened to the ones before it.
                throw new GenerationFailedException(e.Code, Join(checkpoint.FallbackReason, $"{planned.Model}: {e.Message}"));
            }

            if (step.Image is { } image)
            {
                var debug = image.Debug with { UsedFallback = index > 0, FallbackReason = checkpoint.FallbackReason };
                return new RunStep(await StoreAsync(job, planned.Provider.Name, image with { Debug = debug }, cancellationToken));
            }

            checkpoint = checkpoint with
            {
                TaskId = step.TaskId, Checks = checkpoint.Checks + 1,
                DeadlineAt = checkpoint.DeadlineAt ?? clock.GetUtcNow().AddSeconds(_options.DeadlineSeconds),
            };
            if (await SaveAsync(job, checkpoint, step.Progress >= 0 ? step.Progress : job.Progress, cancellationToken) is null) return null;
            return new RunStep(null, checkpoint.Checks, NextCheckDelay(checkpoint.Checks));
        }
    }

    // 2 s, 3 s, 4.5 s, ... up to 10 s by default.
    TimeSpan NextCheckDelay(int check) =>
        TimeSpan.FromSeconds(Math.Min(_options.PollMaxSeconds, _options.PollMinSeconds * Math.Pow(1.5, check - 1)));

    // ETag-guarded: a 412 means another delivery of this job got further, and this one stops.
    async Task<JobRecord?> SaveAsync(JobRecord job, UpstreamCheckpoint checkpoint, double? progress, CancellationToken cancellationToken)
    {
        try
        {
            return await jobs.ReplaceAsync(job with { Upstream = checkpoint, Progress = progress, ProgressLabel = "generating" }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status412PreconditionFailed)
        {
            logger.LogInformation("Job {JobId} was advanced by another delivery; this one stops", job.Id);
            return null;
        }
    }

    async Task<byte[]?> ReferenceAsync(GenerationRequest request, CancellationToken cancellationToken) =>
        request.ReferenceFileId is not { } referenceId ? null
            : await files.ReadAllAsync(referenceId, cancellationToken)
              ?? throw new GenerationFailedException(GenerationErrors.ReferenceNotFound, $"Reference file {referenceId} no longer exists.");

    // Idempotent by job id: the file's name comes from the job, and the history keeps one row per job.
    async Task<JobResult> StoreAsync(JobRecord job, string provider, GeneratedImage image, CancellationToken cancellationToken)
    {
        var request = job.Request;
        var fileId = FileIds.FileIdForJob(job.Id);
        var now = clock.GetUtcNow();
        await files.SaveAsync(fileId, image.Bytes, image.ContentType, $"{fileId}.{ImageFormats.ExtensionOf(image.ContentType)}", now,
            request.IsPrivate, new Dictionary<string, string>
            {
                ["kind"] = "generated", [FileStore.JobKey] = job.Id, ["model"] = request.Model, ["provider"] = provider,
                ["width"] = image.Width.ToString(), ["height"] = image.Height.ToString(),
            }, cancellationToken);

        var entry = await history.AddAsync(new ImageEntry(0, fileId, request.Prompt, request.Style, request.AspectRatio, request.Model,
            request.IsPrivate, null, now, job.Id), cancellationToken);
        return new JobResult(entry.Id, fileId, image.Bytes.Length, image.Width, image.Height, image.ContentType, entry.CreatedAt, image.Debug);
    }

    /// <summary>Undoes <see cref="StoreAsync"/> for a job that ended otherwise meanwhile (canceled, past its deadline, deleted).</summary>
    public async Task DiscardAsync(string jobId, CancellationToken cancellationToken)
    {
        var removed = await history.DeleteByJobAsync(jobId, cancellationToken);
        var deleted = await files.DeleteAsync(FileIds.FileIdForJob(jobId), cancellationToken);
        if (removed is not null || deleted) logger.LogInformation("Job {JobId} ended without its image; the stored image was removed", jobId);
    }

    static string Join(string? earlier, string reason) => earlier is null ? reason : $"{earlier}; {reason}";
}

/// <summary>Another delivery of the same job got further; this one has nothing left to do.</summary>
public sealed class StaleDeliveryException : Exception;
