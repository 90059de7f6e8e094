using Functions.Generation;
using Microsoft.DurableTask.Client;

namespace Functions.Jobs;

/// <summary>A job as clients see it, read from its orchestration instance: status, request, progress, result or error.</summary>
public sealed record JobRecord(
    string Id,
    JobStatus Status,
    GenerationRequest Request,
    DateTimeOffset CreatedAt,
    string ProgressLabel,
    double? Progress = null,
    JobResult? Result = null,
    string? Error = null,
    string? ErrorCode = null,
    DateTimeOffset? StartedAt = null,
    DateTimeOffset? FinishedAt = null,
    bool ReferenceIsCopy = false)
{
    public const string Type = "image_generation";
    public const string CanceledMessage = "Canceled by a DELETE request.";

    /// <summary>The Retry-After a job that has not ended is answered with: how soon to look again, in seconds.</summary>
    public const string PollAfterSeconds = "2";

    /// <summary>
    /// From an instance read with its inputs and outputs. Canceled is <see cref="DurableJobs.WasCanceled"/>: terminated, or
    /// run by a start the engine held past the cancel (it ends terminated again); a failure's code is in the custom status.
    /// A canceled job ended at <paramref name="canceledAt"/>, when its cancel was accepted (<see cref="CancelRow.AcceptedAt"/>;
    /// without it, the instance's last write).
    /// </summary>
    public static JobRecord From(OrchestrationMetadata instance, DateTimeOffset? canceledAt = null)
    {
        var status = DurableJobs.WasCanceled(instance) ? JobStatus.Canceled : instance.RuntimeStatus switch
        {
            OrchestrationRuntimeStatus.Pending => JobStatus.Queued,
            OrchestrationRuntimeStatus.Completed => JobStatus.Succeeded,
            OrchestrationRuntimeStatus.Failed => JobStatus.Failed,
            _ => JobStatus.Running,
        };
        var progress = instance.SerializedCustomStatus is null ? null : instance.ReadCustomStatusAs<JobProgress>();
        // An ended job whose row the engine wrote again from its history (a crash between the two writes) has no custom status
        // left, or an earlier one: a failed job's text holds the same failed status (JobFailedException), a succeeded one's
        // output its start.
        if (instance.RuntimeStatus == OrchestrationRuntimeStatus.Failed && progress?.RecordsAFailure != true
            && JobFailedException.StatusIn(instance.FailureDetails?.ErrorMessage ?? instance.SerializedOutput) is { } failed)
            progress = failed;
        var job = instance.ReadInputAs<GenerationJob>() ?? throw new InvalidOperationException($"Job {instance.InstanceId} has no input.");
        // Not the instance's last write for a canceled job: a start the engine held runs it after the cancel, writing it again.
        DateTimeOffset? finished = !status.IsTerminal() ? null : status == JobStatus.Canceled && canceledAt is { } accepted ? accepted : instance.LastUpdatedAt;
        // Nor does what such a start wrote show: a canceled job started, and got as far, as it had when it was canceled.
        if (status == JobStatus.Canceled && progress?.StartedAt > finished) progress = null;
        var (code, error) = status switch
        {
            JobStatus.Failed => (progress?.ErrorCode ?? GenerationErrors.GenerationFailed, progress?.Error ?? EngineFailureMessage(instance)),
            JobStatus.Canceled => (GenerationErrors.Canceled, CanceledMessage),
            _ => ((string?)null, (string?)null),
        };
        var result = status == JobStatus.Succeeded ? instance.ReadOutputAs<JobResult>() : null;
        return new JobRecord(instance.InstanceId, status, job.Request, job.SubmittedAt ?? instance.CreatedAt,
            status switch
            {
                JobStatus.Queued => "queued", JobStatus.Canceled => "canceled", JobStatus.Failed => "failed", JobStatus.Succeeded => "done",
                _ => progress?.Label ?? "running",
            },
            status == JobStatus.Succeeded ? 1 : progress?.Progress, result,
            error, code, progress?.StartedAt ?? result?.JobStartedAt, finished, job.ReferenceIsCopy);
    }

    // The engine's own failure text is not shown (it names code); only whether a deployment caused it.
    static string EngineFailureMessage(OrchestrationMetadata instance) =>
        EngineFailures.StepsChanged(instance.FailureDetails?.ErrorType, instance.FailureDetails?.ErrorMessage ?? instance.SerializedOutput)
            ? EngineFailures.StepsChangedMessage
            : GenerationErrors.GenerationFailedMessage;
}
