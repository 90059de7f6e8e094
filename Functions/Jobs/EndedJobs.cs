using Functions.Generation;
using Microsoft.DurableTask.Client;

namespace Functions.Jobs;

/// <summary>
/// Forgetting ended jobs: one a client deletes (DELETE /api/v1/jobs/{id} on an ended job), and every job past the
/// retention (<see cref="Maintenance.PurgeEndedJobs"/>), so that the job engine's records do not grow for ever.
/// </summary>
public sealed class EndedJobs(ImageKeeper keeper, IdempotencyKeys keys, CancelRequests cancels)
{
    /// <summary>
    /// Its image stays (unless it was canceled: then a Store that landed after the cancel's own discard is removed now),
    /// what only the job needed goes, and its idempotency key makes a new job next time. The instance goes last, so that
    /// a forget that fails before it can be done again.
    /// </summary>
    public async Task ForgetAsync(DurableTaskClient durable, OrchestrationMetadata job, CancellationToken cancellationToken)
    {
        var input = job.ReadInputAs<GenerationJob>();
        if (job.RuntimeStatus == OrchestrationRuntimeStatus.Terminated) await keeper.DiscardAsync(job.InstanceId, cancellationToken);
        await DiscardReferenceAsync(input, cancellationToken);
        if (input?.IdempotencyKeyHash is { } keyHash) await keys.ReleaseAsync(keyHash, job.InstanceId, cancellationToken);
        await cancels.ForgetAsync(job.InstanceId, cancellationToken);
        await durable.PurgeInstanceAsync(job.InstanceId, cancellation: cancellationToken);
    }

    /// <summary>Forgets every job that has ended and was created before <paramref name="createdBefore"/>; answers how many.</summary>
    public async Task<int> ForgetEndedBeforeAsync(DurableTaskClient durable, DateTimeOffset createdBefore, CancellationToken cancellationToken)
    {
        var query = new OrchestrationQuery
        {
            CreatedTo = createdBefore,
            Statuses = [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated],
            FetchInputsAndOutputs = true, // its input names its reference copy and its idempotency key
            PageSize = 100,
        };
        var forgotten = 0;
        await foreach (var job in durable.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
        {
            if (job.Name != GenerationOrchestrator.Name || !job.IsCompleted) continue;
            await ForgetAsync(durable, job, cancellationToken);
            forgotten++;
        }
        return forgotten;
    }

    /// <summary>The job's own copy of an inline reference image; a file the client named as the reference is the client's.</summary>
    public Task DiscardReferenceAsync(GenerationJob? input, CancellationToken cancellationToken) =>
        input is { ReferenceIsCopy: true, Request.ReferenceFileId: { } copy } ? keeper.DiscardFileAsync(copy, cancellationToken) : Task.CompletedTask;
}
