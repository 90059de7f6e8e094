using Functions.Generation;
using Microsoft.DurableTask;

namespace Functions.Jobs;

/// <summary>
/// A long generation as a Durable orchestration whose instance id is the job id: for each model of the plan, Submit,
/// then durable timers between Checks, then Store; a retryable failure moves to the next model, a final one ends the
/// job; a deadline timer raced against the work ends it as upstream_timeout, keeping nothing it stored.
/// </summary>
public static class GenerationOrchestrator
{
    public const string Name = nameof(GenerationOrchestrator);

    // An activity that throws (not a provider failure: storage down, a bug) is tried again before the job fails.
    const int Attempts = 4;
    static readonly TaskOptions ActivityRetries = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: Attempts, firstRetryInterval: TimeSpan.FromSeconds(2), backoffCoefficient: 2));

    [Function(Name)]
    public static async Task<JobResult> Run([OrchestrationTrigger] TaskOrchestrationContext context, GenerationJob job)
    {
        var started = context.CurrentUtcDateTime;
        context.SetCustomStatus(new JobProgress("running", 0, started));

        using var stop = new CancellationTokenSource();
        var deadlineAt = started.AddSeconds(job.Timings.DeadlineSeconds);
        var deadline = context.CreateTimer(deadlineAt, stop.Token);
        var trail = new FallbackTrail();
        var work = RunPlanAsync(context, job, started, trail, stop.Token);
        if (await Task.WhenAny(work, deadline) == deadline)
        {
            // Let the current step end (a timer is canceled, an activity finishes; no step starts after it), then undo whatever it stored.
            stop.Cancel();
            try { await work; } catch (Exception e) when (e is OperationCanceledException or TaskFailedException) { }
            throw await PastDeadlineAsync(context, job, started, trail);
        }
        stop.Cancel();
        UpstreamStep outcome;
        try { outcome = await work; }
        catch (TaskFailedException e)
        {
            // A step kept throwing: keep nothing it may have stored, and name the step without its error text (it may be
            // storage's). The log says why: under the local host no other line does (the Durable worker's own logs are off).
            context.CreateReplaySafeLogger(nameof(GenerationOrchestrator)).LogError("Job {JobId}: {Step} failed {Attempts} times; the last time: {ErrorType}: {Error}\n{StackTrace}",
                context.InstanceId, e.TaskName, Attempts, e.FailureDetails.ErrorType, e.FailureDetails.ErrorMessage, e.FailureDetails.StackTrace);
            await DiscardAsync(context);
            throw Failed(context, started, GenerationErrors.AttemptsExhausted, $"The job gave up after {Attempts} attempts at {e.TaskName}.");
        }
        // A step cut at the deadline may report before the (roughly punctual) deadline timer fires: the same end either way.
        if (outcome.Failure is { Code: GenerationErrors.UpstreamTimeout } && context.CurrentUtcDateTime >= deadlineAt)
            throw await PastDeadlineAsync(context, job, started, trail);
        if (outcome.Failure is { } failure) throw Failed(context, started, failure.Code, failure.Message);
        context.SetCustomStatus(new JobProgress("done", 1, started));
        return outcome.Stored! with { JobStartedAt = started };
    }

    static async Task<UpstreamStep> RunPlanAsync(TaskOrchestrationContext context, GenerationJob job, DateTime started, FallbackTrail trail,
        CancellationToken stop)
    {
        for (var index = 0; index < job.Models.Count; index++)
        {
            var model = job.Models[index];
            stop.ThrowIfCancellationRequested(); // past the deadline no model starts, so none is named as under way
            trail.Trying(model);
            // The deadline goes with each step, so that an upstream call ends with it instead of keeping the deadline timer waiting.
            var call = new UpstreamCall(context.InstanceId, job.Request, index, model, FallbackReason: trail.Reasons,
                Deadline: started.AddSeconds(job.Timings.DeadlineSeconds));
            var step = await RunModelAsync(context, call, job.Timings, started, trail, stop);
            // Canceled as it started: a terminate on its way ends the job (as canceled) at one of its next steps. One that
            // has not come after the pause may never come (the DELETE could not send it and took its cancel back): Submit again.
            while (step.Failure is { Code: GenerationErrors.Canceled })
            {
                await context.CreateTimer(job.Timings.CancelRecheckDelay(), stop);
                step = await RunModelAsync(context, call with { AfterCancel = true }, job.Timings, started, trail, stop);
            }
            // A call cut under way by the cancel: wait for its terminate as above, but never send anything upstream again (the
            // cut call may have been paid for). No terminate after the pause (a DELETE that took its cancel back): the job fails.
            if (step.Failure is { Code: GenerationErrors.StoppedByCancel })
                await context.CreateTimer(job.Timings.CancelRecheckDelay(), stop);
            if (step.Failure is not { } failure) return step;
            if (failure.Retryable && index + 1 < job.Models.Count)
            {
                context.CreateReplaySafeLogger(nameof(GenerationOrchestrator)).LogWarning("Job {JobId}: {Model} failed ({Code}: {Reason}); falling back to {Next}",
                    context.InstanceId, model, failure.Code, PromptsInLogs.Hide(failure.Message, job.Request.Prompt), job.Models[index + 1]);
                trail.Left(failure.Message);
                continue;
            }
            // The job ends here: say which model failed, and what happened to the ones before it.
            return new UpstreamStep(Failure: failure with { Message = trail.Ended(failure.Message) + failure.Advice, Advice = null });
        }
        throw new InvalidOperationException("A job without models.");
    }

    static async Task<UpstreamStep> RunModelAsync(TaskOrchestrationContext context, UpstreamCall call, JobTimings timings, DateTime started,
        FallbackTrail trail, CancellationToken stop)
    {
        var step = await StepAsync(context, GenerationActivities.Submit, call, stop);
        for (var check = 1; step.TaskId is { } taskId && step.Failure is null && step.Stored is null && step.Ready is null; check++)
        {
            if (step.Progress is { } progress) context.SetCustomStatus(new JobProgress("generating", progress, started));
            await context.CreateTimer(timings.CheckDelay(check), stop);
            step = await StepAsync(context, GenerationActivities.Check, call with { TaskId = taskId }, stop);
            trail.Checked(step.CheckFailed);
        }
        if (step.Ready is { } ready)
        {
            context.SetCustomStatus(new JobProgress("storing", 0.99, started));
            step = await StepAsync(context, GenerationActivities.Store, new StoreCall(call, ready), stop);
        }
        return step;
    }

    // Once the deadline has passed no step starts: no upstream task is paid for, no image stored only to be discarded.
    static Task<UpstreamStep> StepAsync(TaskOrchestrationContext context, string activity, object input, CancellationToken stop)
    {
        stop.ThrowIfCancellationRequested();
        return context.CallActivityAsync<UpstreamStep>(activity, input, ActivityRetries);
    }

    static async Task<JobFailedException> PastDeadlineAsync(TaskOrchestrationContext context, GenerationJob job, DateTime started,
        FallbackTrail trail)
    {
        await DiscardAsync(context);
        return Failed(context, started, GenerationErrors.UpstreamTimeout,
            trail.PastDeadline($"The generation did not finish within {job.Timings.DeadlineSeconds:0} s (Upstream:DeadlineSeconds)"));
    }

    // A discard that keeps failing (storage down) must not end the job with the engine's text, which may quote storage's.
    static async Task DiscardAsync(TaskOrchestrationContext context)
    {
        try { await context.CallActivityAsync(GenerationActivities.Discard, context.InstanceId, ActivityRetries); }
        catch (TaskFailedException e)
        {
            context.CreateReplaySafeLogger(nameof(GenerationOrchestrator)).LogWarning(
                "Job {JobId} could not remove what it stored after {Attempts} attempts: {Reason}", context.InstanceId, Attempts, e.Message);
        }
    }

    /// <summary>
    /// The job's end as failed: its status says why, and the caller throws the exception, which fails the orchestration
    /// and carries the same status (a row the engine writes again from the history keeps only the failure's text).
    /// </summary>
    static JobFailedException Failed(TaskOrchestrationContext context, DateTime started, string code, string message)
    {
        var failure = new GenerationFailedException(code, message); // its message capped, for the status's size limits
        var status = new JobProgress("failed", null, started, code, failure.Message);
        context.SetCustomStatus(status);
        context.CreateReplaySafeLogger(nameof(GenerationOrchestrator)).Log(GenerationErrors.LogLevelOf(code),
            "Job {JobId} failed ({Code}): {Reason}", context.InstanceId, code, PromptsInLogs.Hide(failure.Message, context.GetInput<GenerationJob>()?.Request.Prompt));
        return new JobFailedException(status);
    }
}
