using System.Collections.Concurrent;
using Functions.Generation;
using Microsoft.DurableTask.Client;

namespace Functions.Jobs;

/// <summary>
/// Forgetting ended jobs: one a client deletes (DELETE /api/v1/jobs/{id} on an ended job), and every job past the
/// retention (<see cref="Maintenance.PurgeEndedJobs"/>), so that the job engine's records do not grow for ever.
/// </summary>
public sealed class EndedJobs(ImageKeeper keeper, IdempotencyKeys keys, CancelRequests cancels, SubmitClaims claims, ILogger<EndedJobs> logger)
{
    // The forgets under way on this instance, by job id: the engine's purge reports an instance purged to each of two
    // purges that overlap, so concurrent DELETEs of one job would both answer that they deleted it.
    readonly ConcurrentDictionary<string, Task<bool>> _forgetting = new(StringComparer.Ordinal);

    /// <summary>
    /// Its image stays (unless it was canceled: then a Store that landed after the cancel's own discard is removed now),
    /// what only the job needed goes, and its idempotency key makes a new job next time. The instance goes last, so that
    /// a forget that fails before it can be done again; a canceled job's only when <paramref name="forGood"/> (the daily
    /// purge), else it is marked forgotten (<see cref="CancelRequests.MarkForgottenAsync"/>). False when another forget
    /// did it (the instance was gone or marked, or another request on this instance was forgetting it).
    /// </summary>
    public async Task<bool> ForgetAsync(DurableTaskClient durable, OrchestrationMetadata job, CancellationToken cancellationToken, bool forGood = false)
    {
        var mine = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var underWay = _forgetting.GetOrAdd(job.InstanceId, mine.Task);
        if (underWay != mine.Task)
        {
            await underWay; // its failure is this request's too: the job may still be there
            return false;
        }
        try
        {
            var purged = await ForgetOnceAsync(durable, job, forGood, cancellationToken);
            mine.SetResult(purged);
            return purged;
        }
        catch (Exception e)
        {
            mine.SetException(e);
            throw;
        }
        finally
        {
            _forgetting.TryRemove(new KeyValuePair<string, Task<bool>>(job.InstanceId, mine.Task));
        }
    }

    async Task<bool> ForgetOnceAsync(DurableTaskClient durable, OrchestrationMetadata job, bool forGood, CancellationToken cancellationToken)
    {
        var canceled = DurableJobs.WasCanceled(job);
        if (canceled && !forGood && await cancels.WasForgottenAsync(job.InstanceId, cancellationToken)) return false;
        var input = job.ReadInputAs<GenerationJob>();
        if (canceled) await keeper.DiscardAsync(job.InstanceId, cancellationToken);
        await DiscardReferenceAsync(input, cancellationToken);
        if (input?.IdempotencyKeyHash is { } keyHash) await keys.ReleaseAsync(keyHash, job.InstanceId, cancellationToken);
        // A late Submit of a canceled job finds its cancel record first: its submit claim is not needed to stop it.
        await claims.ForgetAsync(job.InstanceId, cancellationToken);
        if (canceled && !forGood)
        {
            await cancels.MarkForgottenAsync(job.InstanceId, cancellationToken);
            return true;
        }
        await cancels.ForgetAsync(job.InstanceId, cancellationToken);
        var purged = await durable.PurgeInstanceAsync(job.InstanceId, cancellation: cancellationToken);
        return purged.PurgedInstanceCount > 0;
    }

    /// <summary>
    /// Forgets every job that has ended and was created before <paramref name="createdBefore"/>; answers how many were
    /// forgotten and how many failed. One that fails is logged and passed over (the next run tries it again), so that it
    /// cannot hold back the others.
    /// </summary>
    public Task<(int Forgotten, int Failed)> ForgetEndedBeforeAsync(DurableTaskClient durable, DateTimeOffset createdBefore,
        CancellationToken cancellationToken) =>
        ForgetEachAsync(durable, createdBefore, [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated],
            _ => Task.FromResult(true), cancellationToken);

    /// <summary>
    /// Purges the canceled jobs a DELETE forgot (<see cref="CancelRequests.MarkForgottenAsync"/>) that were created before
    /// <paramref name="createdBefore"/>, whatever the retention: by then the engine holds no start of theirs.
    /// </summary>
    public Task<(int Forgotten, int Failed)> PurgeForgottenBeforeAsync(DurableTaskClient durable, DateTimeOffset createdBefore,
        CancellationToken cancellationToken) =>
        ForgetEachAsync(durable, createdBefore, [OrchestrationRuntimeStatus.Terminated],
            job => cancels.WasForgottenAsync(job.InstanceId, cancellationToken), cancellationToken);

    async Task<(int Forgotten, int Failed)> ForgetEachAsync(DurableTaskClient durable, DateTimeOffset createdBefore,
        IReadOnlyList<OrchestrationRuntimeStatus> statuses, Func<OrchestrationMetadata, Task<bool>> chosen, CancellationToken cancellationToken)
    {
        var query = new OrchestrationQuery
        {
            CreatedTo = createdBefore,
            Statuses = statuses,
            FetchInputsAndOutputs = true, // its input names its reference copy and its idempotency key
            PageSize = DurableJobs.EnginePage, // pages of jobs with their inputs and outputs stay within the engine's message size
        };
        var (forgotten, failed) = (0, 0);
        await foreach (var job in durable.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            if (job.Name != GenerationOrchestrator.Name || !job.IsCompleted) continue;
            try
            {
                // Past the retention (or a day after a DELETE forgot it) the engine is long done with a canceled job: its instance goes too.
                if (await chosen(job) && await ForgetAsync(durable, job, cancellationToken, forGood: true)) forgotten++;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                failed++;
                logger.LogWarning(e, "Job {JobId} could not be forgotten; the next purge tries it again", job.InstanceId);
            }
        }
        return (forgotten, failed);
    }

    /// <summary>The job's own copy of an inline reference image; a file the client named as the reference is the client's.</summary>
    public Task DiscardReferenceAsync(GenerationJob? input, CancellationToken cancellationToken) =>
        input is { ReferenceIsCopy: true, Request.ReferenceFileId: { } copy } ? keeper.DiscardFileAsync(copy, cancellationToken) : Task.CompletedTask;
}
