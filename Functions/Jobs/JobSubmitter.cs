using Functions.Generation;
using Functions.Generation.Providers;
using Functions.Storage;
using Microsoft.DurableTask.Client;

namespace Functions.Jobs;

/// <summary>A scheduled job, or with <see cref="Replayed"/> the job an earlier request with the same idempotency key created.</summary>
public sealed record Submission(JobRecord Job, bool Replayed);

/// <summary>An Idempotency-Key and the hash of the body that came with it.</summary>
public sealed record IdempotencyRequest(string Key, string BodyHash);

/// <summary>The job an idempotency key is bound to was deleted while this request looked at it.</summary>
public sealed class JobDeletedException(string jobId) : Exception($"Job {jobId} was deleted (DELETE /api/v1/jobs) while this request was answering for it; send the request again to make a new job.")
{
    public string JobId { get; } = jobId;
}

/// <summary>The job engine did not confirm a job it was asked to schedule (the call went out): it may run all the same.</summary>
public sealed class JobUnconfirmedException(string jobId, bool withKey, Exception cause) : Exception(
    $"The job engine did not confirm job {jobId} in time, and it may still run: " + (withKey
        ? "send the request again with the same Idempotency-Key, which answers for that job."
        : $"look at GET /api/v1/jobs/{jobId} before sending the request again (an Idempotency-Key makes such a repeat safe)."), cause);

/// <summary>
/// The key is bound to a job that has not appeared yet: its request may still be scheduling it, or died before it did.
/// Sent again after <see cref="RetryAfter"/>, the request answers for that job, or (the binding lapsed) makes its own.
/// </summary>
public sealed class IdempotencyKeyInProgressException(string key, TimeSpan retryAfter)
    : Exception($"Another request with Idempotency-Key '{key}' is still scheduling its job; send this one again in {Math.Ceiling(retryAfter.TotalSeconds):0} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>The idempotency key was used within its lifetime for a different body.</summary>
public sealed class IdempotencyKeyReusedException(string key)
    : Exception($"Idempotency-Key '{key}' was used with a different request body within the last {IdempotencyKeys.Lifetime.TotalHours:0} hours: send this body with a new key.");

/// <summary>
/// Schedules a generation orchestration. With an idempotency key, the key is bound to the new job id first and the
/// job scheduled second; of concurrent requests with one key exactly one binds it, and the others answer for its job.
/// </summary>
public sealed class JobSubmitter(IdempotencyKeys keys, CancelRequests cancels, IOptions<UpstreamOptions> upstream, TimeProvider clock,
    ILogger<JobSubmitter> logger)
{
    // How long after binding a key the winner may take to schedule its job: well past what one Durable client call may
    // take (the local host waits 20 s for the backend to start, then 30 s for its answer), since a call cut off there
    // may still schedule the job. An older binding without its job (deleted, or its request died) is free.
    public static readonly TimeSpan ScheduleGrace = TimeSpan.FromSeconds(90);

    // How long a request waits for the schedule call (after binding its key, if any): with a key, a third of the grace
    // to spare for a call cut off here that lands late, so that it lands before another request may take the key over
    // and schedule its own; without, so that the client hears which job may run well within its own patience.
    public static readonly TimeSpan ScheduleBound = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The job an idempotency key already made, answered again; null when the key is unused or its job is gone. A key
    /// that came with another body throws <see cref="IdempotencyKeyReusedException"/>.
    /// </summary>
    public async Task<Submission?> ReplayAsync(DurableTaskClient durable, IdempotencyRequest idempotency, CancellationToken cancellationToken) =>
        await keys.FindAsync(idempotency.Key, cancellationToken) is { } used ? await ReplayOfAsync(durable, idempotency, used, cancellationToken) : null;

    async Task<Submission?> ReplayOfAsync(DurableTaskClient durable, IdempotencyRequest idempotency, KeyUse used, CancellationToken cancellationToken)
    {
        if (used.BodyHash != idempotency.BodyHash) throw new IdempotencyKeyReusedException(idempotency.Key);
        return await durable.GetJobAsync(used.JobId, cancels, cancellationToken) is { } earlier ? new Submission(earlier, Replayed: true) : null;
    }

    /// <summary>Waits at most <paramref name="bound"/> for the job to end (<see cref="DurableJobs.WaitForJobAsync"/>): the job then, or Deleted.</summary>
    public Task<(JobRecord? Job, bool Deleted)> WaitAsync(DurableTaskClient durable, string jobId, TimeSpan bound, CancellationToken cancellationToken) =>
        durable.WaitForJobAsync(jobId, cancels, bound, clock, cancellationToken);

    /// <summary>The job as the engine has it now (none: deleted), read within <paramref name="bound"/>; <paramref name="known"/> when that read fails.</summary>
    public async Task<(JobRecord? Job, bool Deleted)> NowOrAsync(DurableTaskClient durable, JobRecord known, TimeSpan bound)
    {
        using var cutOff = new CancellationTokenSource(bound, clock);
        try
        {
            return await durable.GetJobAsync(known.Id, cancels, cutOff.Token) is { } now ? (now, false) : (null, true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Only a better answer than the one in hand: whatever the read met at a stop (an engine or channel going
            // away, disposed under a test host, storage), the job as it was scheduled still stands.
            logger.LogInformation("Job {JobId} was not read again at the stop ({Reason}); answered as it was scheduled", known.Id, FaultText.Of(e));
            return (known, false);
        }
    }

    /// <summary>Schedules <paramref name="request"/> as job <paramref name="jobId"/> (<see cref="JobIds.New"/>), or answers for the job its idempotency key made.</summary>
    public async Task<Submission> SubmitAsync(DurableTaskClient durable, string jobId, GenerationRequest request, IReadOnlyList<PlannedModel> plan,
        IdempotencyRequest? idempotency, CancellationToken cancellationToken, bool referenceIsCopy = false)
    {
        var now = clock.GetUtcNow();
        if (idempotency is not null)
        {
            var bound = await keys.BindAsync(idempotency.Key, new KeyUse(jobId, idempotency.BodyHash, now),
                earlier => AppearsAsync(durable, earlier, idempotency, cancellationToken), cancellationToken);
            if (bound.JobId != jobId) // another request holds the key; its job was deleted between the binding's check and this read
                return await ReplayOfAsync(durable, idempotency, bound, cancellationToken) ?? throw new JobDeletedException(bound.JobId);
        }

        var options = upstream.Value;
        var job = new GenerationJob(request, [.. plan.Select(p => p.Model)],
            new JobTimings(options.DeadlineSeconds, options.PollMinSeconds, options.PollMaxSeconds), now,
            idempotency is null ? null : IdempotencyKeys.HashOfKey(idempotency.Key), referenceIsCopy);
        // Counted from the binding's own time, which its grace counts from too.
        using var cutOff = new CancellationTokenSource(NotBelowZero(now + ScheduleBound - clock.GetUtcNow()), clock);
        using var scheduleBound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cutOff.Token);
        try
        {
            await durable.ScheduleJobAsync(jobId, job, scheduleBound.Token);
        }
        catch (Exception e) when ((JobEngineFaults.IsFailure(e) && !NeverSent(e))
                                  || (cutOff.IsCancellationRequested && JobEngineFaults.IsCancellation(e)))
        {
            throw new JobUnconfirmedException(jobId, idempotency is not null, e); // a call cut off on its way may have scheduled the job
        }
        catch (Exception e) when (idempotency is not null && NeverSent(e))
        {
            // Nothing was scheduled: the key is free again, so that its repeat makes a job at once rather than after the grace.
            await ReleaseQuietlyAsync(idempotency.Key, jobId);
            throw;
        }
        // Under the request's scope: the line that ties its X-Request-Id to the job, whose own lines carry the job id.
        logger.LogInformation("Job {JobId} scheduled ({Model})", jobId, request.Model);
        return new Submission(new JobRecord(jobId, JobStatus.Queued, request, now, "queued", ReferenceIsCopy: referenceIsCopy), Replayed: false);
    }

    static TimeSpan NotBelowZero(TimeSpan left) => left > TimeSpan.Zero ? left : TimeSpan.Zero;

    // No connection (the local host's engine not started is one too), or its task hub is gone: the schedule was not
    // taken, so nothing can run.
    static bool NeverSent(Exception e) =>
        e is Grpc.Core.RpcException { Status.DebugException: HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } }
        || JobEngineFaults.IsTaskHubLost(e);

    // Best effort: storage may be down too, and then the schedule grace frees the key all the same.
    async Task ReleaseQuietlyAsync(string key, string jobId)
    {
        try { await keys.ReleaseAsync(IdempotencyKeys.HashOfKey(key), jobId, CancellationToken.None); }
        catch (Exception e) when (StorageFaults.IsStorage(e)) { }
    }

    // How long a request waits for another's job to appear before it answers "in progress": a schedule takes well under
    // a second, or up to 20 s while the local host's backend starts; a job missing longer most likely lost its request
    // (a crash), and the client should not hang for the whole grace.
    static readonly TimeSpan InProgressWait = TimeSpan.FromSeconds(25);

    /// <summary>
    /// Whether a key's job exists, waiting a little for one that may still be being scheduled; false once the binding's
    /// grace has passed (the key is free), <see cref="IdempotencyKeyInProgressException"/> when it has not.
    /// </summary>
    async Task<bool> AppearsAsync(DurableTaskClient durable, KeyUse binding, IdempotencyRequest idempotency, CancellationToken cancellationToken)
    {
        var (lapses, giveUp) = (binding.CreatedAt + ScheduleGrace, clock.GetUtcNow() + InProgressWait);
        while (true)
        {
            if (await durable.GetInstanceAsync(binding.JobId, getInputsAndOutputs: false, cancellationToken) is not null) return true;
            var now = clock.GetUtcNow();
            if (now >= lapses) return false;
            if (now >= giveUp) throw new IdempotencyKeyInProgressException(idempotency.Key, lapses - now);
            await Task.Delay(TimeSpan.FromMilliseconds(250), clock, cancellationToken);
        }
    }
}
