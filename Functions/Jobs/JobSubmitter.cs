using Functions.Generation;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>A submitted job, or with <see cref="Replayed"/> the job an earlier request with the same idempotency key created.</summary>
public sealed record Submission(JobRecord Job, bool Replayed);

/// <summary>An Idempotency-Key and the hash of the body that came with it.</summary>
public sealed record IdempotencyRequest(string Key, string BodyHash);

/// <summary>The idempotency key was used within its lifetime for a different body.</summary>
public sealed class IdempotencyKeyReusedException(string key)
    : Exception($"Idempotency-Key '{key}' was used with a different request body within the last {IdempotencyKeys.Lifetime.TotalHours:0} hours.");

/// <summary>Creates a job (row, then queue message) and lets a request wait for its end within a bound.</summary>
public sealed class JobSubmitter(
    JobStore jobs, JobQueue queue, JobCompletions completions, IdempotencyKeys keys, StorageBootstrap bootstrap, TimeProvider clock)
{
    // How often a waiting request re-reads its job, for the case where another instance runs it.
    static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Submits a job; with <paramref name="willWait"/> the caller must end with <see cref="StopWaiting"/>. With an
    /// idempotency key, the job row is written first and the key bound to it second, so a key never names a job that
    /// does not exist; a request that loses the race for the key removes its own row before it was ever queued.
    /// </summary>
    public async Task<Submission> SubmitAsync(GenerationRequest request, bool willWait, IdempotencyRequest? idempotency,
        CancellationToken cancellationToken)
    {
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var job = new JobRecord(JobIds.New(now), JobStatus.Queued, request, now);
        if (willWait) _ = completions.Register(job.Id);
        job = await jobs.CreateAsync(job, cancellationToken);
        if (idempotency is not null && await ReplayAsync(job, idempotency, cancellationToken) is { } earlier) return earlier;
        try
        {
            await queue.EnqueueAsync(job.Id, delay: null, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Without its message the job would stay queued forever: end it now, as far as storage lets us.
            try
            {
                await jobs.ReplaceAsync(job with
                {
                    Status = JobStatus.Failed, ErrorCode = GenerationErrors.EnqueueFailed, Error = "The job could not be queued.",
                    FinishedAt = clock.GetUtcNow(), ProgressLabel = "failed",
                }, CancellationToken.None);
            }
            catch (Exception e) when (StorageFaults.IsStorage(e)) { }
            throw;
        }
        return new Submission(job, Replayed: false);
    }

    /// <summary>The key's earlier job (or a conflict) if another request bound the key first; null when it is ours.</summary>
    async Task<Submission?> ReplayAsync(JobRecord job, IdempotencyRequest idempotency, CancellationToken cancellationToken)
    {
        var bound = await keys.BindAsync(idempotency.Key, new KeyUse(job.Id, idempotency.BodyHash, job.CreatedAt),
            async id => await jobs.GetAsync(id, cancellationToken) is not null, cancellationToken);
        if (bound.JobId == job.Id) return null;

        StopWaiting(job.Id);
        await jobs.DeleteAsync(job, CancellationToken.None);
        if (bound.BodyHash != idempotency.BodyHash) throw new IdempotencyKeyReusedException(idempotency.Key);
        var earlier = await jobs.GetAsync(bound.JobId, cancellationToken)
                      ?? throw new InvalidOperationException($"Job {bound.JobId} of an idempotency key vanished.");
        return new Submission(earlier, Replayed: true);
    }

    /// <summary>The job once it has ended, or null when <paramref name="timeout"/> passes first.</summary>
    public async Task<JobRecord?> WaitAsync(string jobId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var completion = completions.Register(jobId);
        var deadline = clock.GetUtcNow() + timeout;
        while (true)
        {
            var remaining = deadline - clock.GetUtcNow();
            if (remaining <= TimeSpan.Zero) return null;
            var slice = remaining < PollInterval ? remaining : PollInterval;
            if (await Task.WhenAny(completion, Task.Delay(slice, clock, cancellationToken)) == completion) return await completion;
            cancellationToken.ThrowIfCancellationRequested();

            var job = await jobs.GetAsync(jobId, cancellationToken);
            if (job is null || job.Status.IsTerminal()) return job;
        }
    }

    public void StopWaiting(string jobId)
    {
        completions.Unregister(jobId);
        jobs.Forget(jobId);
    }
}
