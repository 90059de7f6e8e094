using Functions.Generation;
using Functions.Hosting;
using Functions.Storage;
using Microsoft.Extensions.Options;

namespace Functions.Jobs;

/// <summary>
/// Runs one delivery of a job message. Every step is idempotent and keyed by the job id, so a redelivery after a crash
/// resumes rather than repeats: the upstream task is in the job's checkpoint, the file's name comes from the job id,
/// the history row is guarded by the job's marker, and each state change is ETag-guarded. Waiting on an upstream
/// never holds a worker: the next check is a delayed message of its own.
/// </summary>
public sealed class JobWorker(
    JobStore jobs, JobQueue queue, GenerationRunner runner, JobCompletions completions, IOptions<WorkerOptions> options,
    TimeProvider clock, ILogger<JobWorker> logger)
{
    public async Task<WorkOutcome> ProcessAsync(string message, long dequeueCount, CancellationToken cancellationToken)
    {
        var (jobId, check) = JobMessages.Parse(message);
        var job = JobIds.IsJobId(jobId) ? await jobs.GetForWorkAsync(jobId, cancellationToken) : null;
        if (job is null)
        {
            logger.LogWarning("Message for unknown job {JobId} dropped", jobId);
            return WorkOutcome.Done;
        }
        if (job.Status.IsTerminal())
        {
            // Ended without an image (canceled, past its deadline) while a delivery that died may have stored one.
            if (job.Status != JobStatus.Succeeded && job.StartedAt is not null) await runner.DiscardAsync(job.Id, cancellationToken);
            completions.Complete(job);
            return WorkOutcome.Done;
        }
        if (clock.GetUtcNow() > job.CreatedAt.AddSeconds(options.Value.JobDeadlineSeconds))
        {
            await FailAndDiscardAsync(job, (GenerationErrors.DeadlineExceeded, JobSweeper.DeadlineReason(options.Value)), cancellationToken);
            return WorkOutcome.Done;
        }
        var scheduled = job.Upstream?.Checks ?? 0;
        if (check < scheduled - 1 || check > scheduled)
        {
            logger.LogInformation("Stale message {Message} for job {JobId} dropped (check {Scheduled} is current)", message, jobId, scheduled);
            return WorkOutcome.Done;
        }
        if (check == scheduled - 1)
        {
            // A redelivery of the message that scheduled the current check: its delivery may have died before queueing
            // that check, so queue it again. A first delivery here is a duplicate and is dropped, so copies never multiply.
            if (dequeueCount > 1) await queue.EnqueueAsync(JobMessages.Check(job.Id, scheduled), delay: null, cancellationToken);
            return WorkOutcome.Done;
        }
        if (dequeueCount > options.Value.MaxDequeueCount)
        {
            var reason = $"gave up after {dequeueCount - 1} attempts" + (job.Error is null ? "" : $": {job.Error}");
            await FailAndDiscardAsync(job, (GenerationErrors.AttemptsExhausted, reason), cancellationToken);
            return WorkOutcome.Poison;
        }

        if (job.Status == JobStatus.Queued || dequeueCount > 1)
        {
            var claimed = await jobs.UpdateAsync(job, j => j with
            {
                Status = JobStatus.Running, StartedAt = j.StartedAt ?? clock.GetUtcNow(), Attempts = j.Attempts + 1,
                ProgressLabel = j.Upstream is null ? "running" : j.ProgressLabel, Progress = j.Progress ?? 0.1,
            }, cancellationToken);
            if (claimed is null || claimed.Status.IsTerminal()) return WorkOutcome.Done;
            job = claimed;
        }

        try
        {
            var step = await runner.RunAsync(job, cancellationToken);
            if (step is null) return WorkOutcome.Done;
            if (step.Result is not { } result)
            {
                await queue.EnqueueAsync(JobMessages.Check(job.Id, step.Check), step.Delay, cancellationToken);
                return WorkOutcome.Done;
            }
            var finished = await FinishAsync(job, j => j with { Status = JobStatus.Succeeded, Result = result, Error = null, ErrorCode = null }, cancellationToken);
            if (finished?.Status != JobStatus.Succeeded)
            {
                // Canceled, failed by the deadline sweep or deleted while the image was stored: it must not stay.
                logger.LogInformation("Job {JobId} ended as {Status} while its image was stored", job.Id, finished?.Status.ToWire() ?? "deleted");
                await runner.DiscardAsync(job.Id, cancellationToken);
                return WorkOutcome.Done;
            }
            logger.LogInformation("Job {JobId} succeeded: image {ImageId}, {Bytes} bytes", job.Id, result.ImageId, result.ImageBytes);
            return WorkOutcome.Done;
        }
        catch (StaleDeliveryException)
        {
            return WorkOutcome.Done;
        }
        catch (GenerationFailedException e)
        {
            logger.LogWarning("Job {JobId} failed: {Code} {Reason}", job.Id, e.Code, e.Message);
            await FinishAsync(job, j => j with { Status = JobStatus.Failed, ErrorCode = e.Code, Error = e.Message }, cancellationToken);
            return WorkOutcome.Done;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && StorageFaults.IsRefusal(e))
        {
            // Storage refused a request of ours (a 4xx): every redelivery would be refused the same way, so the job ends now.
            logger.LogError(e, "Job {JobId}: storage refused a request; the job fails", job.Id);
            await FailAndDiscardAsync(job, (GenerationErrors.InternalError, StorageFaults.PublicMessage(e)), CancellationToken.None);
            return WorkOutcome.Done;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && dequeueCount >= options.Value.MaxDequeueCount)
        {
            // The last delivery the queue allows (the Functions host moves the message to poison after it): end the job here.
            logger.LogError(e, "Job {JobId} attempt {Attempt} failed; no attempts left", job.Id, dequeueCount);
            await FailAndDiscardAsync(job, (GenerationErrors.AttemptsExhausted, $"gave up after {dequeueCount} attempts: {StorageFaults.PublicMessage(e)}"),
                CancellationToken.None);
            return WorkOutcome.Poison;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogError(e, "Job {JobId} attempt {Attempt} failed; it will be retried", job.Id, dequeueCount);
            await jobs.UpdateAsync(job, j => j with { Error = StorageFaults.PublicMessage(e), ProgressLabel = "retrying" }, CancellationToken.None);
            return WorkOutcome.Retry;
        }
    }

    // For ends that may follow a delivery that died mid-store: whatever it stored goes.
    async Task FailAndDiscardAsync(JobRecord job, (string Code, string Reason) error, CancellationToken cancellationToken)
    {
        logger.LogWarning("Job {JobId} failed: {Code} {Reason}", job.Id, error.Code, error.Reason);
        await FinishAsync(job, j => j with { Status = JobStatus.Failed, ErrorCode = error.Code, Error = error.Reason }, cancellationToken);
        if (job.StartedAt is not null) await runner.DiscardAsync(job.Id, cancellationToken);
    }

    /// <summary>The job as it ended: with this change, or as something else ended it first; null when it was deleted.</summary>
    async Task<JobRecord?> FinishAsync(JobRecord job, Func<JobRecord, JobRecord> change, CancellationToken cancellationToken)
    {
        var finished = await jobs.UpdateAsync(job, j => change(j) with
        {
            FinishedAt = clock.GetUtcNow(), Progress = 1, ProgressLabel = change(j).Status == JobStatus.Succeeded ? "done" : "failed",
        }, cancellationToken);
        if (finished is not null) completions.Complete(finished);
        return finished;
    }
}
