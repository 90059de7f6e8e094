using Functions.Generation;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>Creates a job (row, then queue message) and lets a request wait for its end within a bound.</summary>
public sealed class JobSubmitter(JobStore jobs, JobQueue queue, JobCompletions completions, StorageBootstrap bootstrap, TimeProvider clock)
{
    // How often a waiting request re-reads its job, for the case where another instance runs it.
    static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>Submits a job; with <paramref name="willWait"/> the caller must end with <see cref="StopWaiting"/>.</summary>
    public async Task<JobRecord> SubmitAsync(GenerationRequest request, bool willWait, CancellationToken cancellationToken)
    {
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var job = new JobRecord(JobIds.New(now), JobStatus.Queued, request, now);
        if (willWait) _ = completions.Register(job.Id);
        job = await jobs.CreateAsync(job, cancellationToken);
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
                    Status = JobStatus.Failed, ErrorCode = "enqueue_failed", Error = "The job could not be queued.",
                    FinishedAt = clock.GetUtcNow(), ProgressLabel = "failed",
                }, CancellationToken.None);
            }
            catch (StorageException) { }
            throw;
        }
        return job;
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
