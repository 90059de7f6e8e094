using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Functions.Jobs;

/// <summary>The jobs API's reads and writes of orchestration instances, through the Durable client.</summary>
public static class DurableJobs
{
    /// <summary>How long a DELETE waits for the engine to stop a running job before it removes what the job stored.</summary>
    static readonly TimeSpan TerminateWait = TimeSpan.FromSeconds(15);

    public static Task ScheduleJobAsync(this DurableTaskClient client, string jobId, GenerationJob job, CancellationToken cancellationToken) =>
        client.ScheduleNewOrchestrationInstanceAsync(GenerationOrchestrator.Name, job, new StartOrchestrationOptions(jobId), cancellationToken);

    /// <summary>The job, or null when there is none (or a DELETE forgot it: <see cref="CancelRequests.MarkForgottenAsync"/>).</summary>
    public static async Task<JobRecord?> GetJobAsync(this DurableTaskClient client, string jobId, CancelRequests cancels,
        CancellationToken cancellationToken) =>
        await client.GetInstanceAsync(jobId, getInputsAndOutputs: true, cancellationToken) is { } instance && IsJob(instance)
            ? await ReadJobAsync(instance, cancels, cancellationToken)
            : null;

    /// <summary>
    /// The job of an instance read with its inputs and outputs, or null when a DELETE forgot it. A canceled job's cancel
    /// record (one read, for canceled jobs only) says whether, and when the job ended.
    /// </summary>
    static async Task<JobRecord?> ReadJobAsync(OrchestrationMetadata instance, CancelRequests cancels, CancellationToken cancellationToken)
    {
        if (!WasCanceled(instance)) return JobRecord.From(instance);
        var cancel = await cancels.FindAsync(instance.InstanceId, cancellationToken);
        return cancel is { Forgotten: true } ? null : JobRecord.From(instance, cancel?.AcceptedAt());
    }

    /// <summary>Whether a DELETE forgot this canceled job, whose instance stays until the daily purge (one read, for canceled jobs only).</summary>
    public static async Task<bool> IsForgottenAsync(OrchestrationMetadata instance, CancelRequests cancels, CancellationToken cancellationToken) =>
        WasCanceled(instance) && await cancels.WasForgottenAsync(instance.InstanceId, cancellationToken);

    /// <summary>
    /// Waits until the job ends or <paramref name="bound"/> passes, then reads it: the job as it is then (ended or not),
    /// or <c>Deleted</c> when it was deleted meanwhile. Reads the instance's status (one small read each) at growing
    /// intervals: 50 ms doubling to 1 s, so a fast job answers fast and a slow one costs little.
    /// </summary>
    public static async Task<(JobRecord? Job, bool Deleted)> WaitForJobAsync(this DurableTaskClient client, string jobId, CancelRequests cancels,
        TimeSpan bound, TimeProvider clock, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + bound;
        var pause = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var instance = await client.GetInstanceAsync(jobId, getInputsAndOutputs: false, cancellationToken);
            if (instance is null) return (null, true);
            var remaining = deadline - clock.GetUtcNow();
            if (instance.IsCompleted || remaining <= TimeSpan.Zero)
                return await client.GetJobAsync(jobId, cancels, cancellationToken) is { } job ? (job, false) : (null, true);
            await Task.Delay(pause < remaining ? pause : remaining, clock, cancellationToken);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 1000));
        }
    }

    // Jobs are asked of the engine this many at a time: with its input and output a job whose prompt is 4,000 emoji
    // is about 100 KB, and the Durable client's gRPC channel refuses an answer over 4 MiB (a page of 100 answered 500).
    public const int EnginePage = 20;

    // A filter that matches few of many jobs may be answered with short or empty pages that each carry a token (Azure
    // Tables stops a query at 5 s or 1,000 rows scanned): one list request asks at most this many, then answers what it
    // has, with the token of where it stopped, rather than read the whole task hub at once.
    const int MaxEngineQueries = 10;

    /// <summary>Public jobs newest first (instance ids sort so), optionally in one status; a page and the token of the next.</summary>
    public static async Task<(IReadOnlyList<JobRecord> Jobs, string? Next)> ListJobsAsync(this DurableTaskClient client, CancelRequests cancels,
        JobStatus? status, string? continuationToken, int pageSize, CancellationToken cancellationToken)
    {
        var jobs = new List<JobRecord>(pageSize);
        var next = continuationToken;
        var queries = 0;
        do
        {
            var size = Math.Min(EnginePage, pageSize - jobs.Count);
            var query = new OrchestrationQuery
            {
                InstanceIdPrefix = JobIds.PublicPrefix,
                Statuses = status is { } only ? RuntimeStatusesOf(only) : null,
                PageSize = size,
                ContinuationToken = next,
                FetchInputsAndOutputs = true,
            };
            next = null;
            await foreach (var page in client.GetAllInstancesAsync(query).AsPages(query.ContinuationToken, size).WithCancellation(cancellationToken))
            {
                var listed = await Task.WhenAll(page.Values.Where(IsJob).Select(instance => ReadJobAsync(instance, cancels, cancellationToken)));
                jobs.AddRange(listed.OfType<JobRecord>().Where(job => status is null || job.Status == status));
                next = string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken;
                break;
            }
        } while (next is not null && jobs.Count < pageSize && ++queries < MaxEngineQueries);
        return (jobs, next);
    }

    /// <summary>How many public jobs wait to start (at most <paramref name="upTo"/>).</summary>
    public static async Task<int> CountQueuedAsync(this DurableTaskClient client, int upTo, CancellationToken cancellationToken)
    {
        var count = 0;
        var query = new OrchestrationQuery { InstanceIdPrefix = JobIds.PublicPrefix, Statuses = [OrchestrationRuntimeStatus.Pending], PageSize = upTo };
        await foreach (var _ in client.GetAllInstancesAsync(query).WithCancellation(cancellationToken))
            if (++count >= upTo) break;
        return count;
    }

    /// <summary>Asks the engine to stop a job that has not ended: a message it applies at the job's next step.</summary>
    public static Task TerminateJobAsync(this DurableTaskClient client, string jobId, CancellationToken cancellationToken) =>
        client.TerminateInstanceAsync(jobId, JobRecord.CanceledMessage, cancellationToken);

    /// <summary>
    /// Waits until the engine has stopped a job it was asked to terminate, so that removing what it stored afterwards
    /// cannot be undone by a step still running (a Store that lands later removes its own image).
    /// </summary>
    public static async Task<CancelOutcome> WaitUntilStoppedAsync(this DurableTaskClient client, string jobId, TimeProvider clock, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + TerminateWait;
        while (clock.GetUtcNow() < deadline)
        {
            var instance = await client.GetInstanceAsync(jobId, getInputsAndOutputs: false, cancellationToken);
            if (instance is null) return CancelOutcome.Gone; // another request deleted it meanwhile
            if (instance.RuntimeStatus == OrchestrationRuntimeStatus.Terminated) return CancelOutcome.Stopped;
            if (instance.IsCompleted) return CancelOutcome.EndedFirst;
            await Task.Delay(TimeSpan.FromMilliseconds(100), clock, cancellationToken);
        }
        return CancelOutcome.StillStopping;
    }

    /// <summary>
    /// Whether the job was canceled (or deleted meanwhile): terminated, or running with the cancel's reason as its output.
    /// DurableTask.AzureStorage applies a terminate it takes before the job's start message to the instance row and drops
    /// it; the start, when it comes, then runs the job, the row still holding that output.
    /// </summary>
    public static async Task<bool> WasCanceledAsync(this DurableTaskClient client, string jobId) =>
        WasCanceled(await client.GetInstanceAsync(jobId, getInputsAndOutputs: true));

    /// <summary><see cref="WasCanceledAsync"/> of an instance read with its inputs and outputs (null: deleted).</summary>
    public static bool WasCanceled(OrchestrationMetadata? job) =>
        job is null || job.RuntimeStatus == OrchestrationRuntimeStatus.Terminated || !job.IsCompleted && job.SerializedOutput is not null;

    static bool IsJob(OrchestrationMetadata instance) => instance.Name == GenerationOrchestrator.Name;

    // A canceled job may be Running: a start the engine held runs it after the terminate (see WasCanceled).
    static OrchestrationRuntimeStatus[] RuntimeStatusesOf(JobStatus status) => status switch
    {
        JobStatus.Queued => [OrchestrationRuntimeStatus.Pending],
        JobStatus.Running => [OrchestrationRuntimeStatus.Running],
        JobStatus.Succeeded => [OrchestrationRuntimeStatus.Completed],
        JobStatus.Failed => [OrchestrationRuntimeStatus.Failed],
        _ => [OrchestrationRuntimeStatus.Terminated, OrchestrationRuntimeStatus.Running],
    };
}

/// <summary>How a cancel went: the engine stopped the job, the job ended on its own first, another request deleted it, or it was not stopped within the wait.</summary>
public enum CancelOutcome { Stopped, EndedFirst, Gone, StillStopping }
