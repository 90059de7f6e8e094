using Functions.Generation;
using Microsoft.Azure.Functions.Worker;
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
    const int ActivityAttempts = 3;
    static readonly TaskOptions ActivityRetries = TaskOptions.FromRetryPolicy(new RetryPolicy(
        maxNumberOfAttempts: ActivityAttempts, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2));

    [Function(Name)]
    public static async Task<JobResult> Run([OrchestrationTrigger] TaskOrchestrationContext context, GenerationJob job)
    {
        var started = context.CurrentUtcDateTime;
        context.SetCustomStatus(new JobProgress("running", 0, started));

        using var stop = new CancellationTokenSource();
        var deadline = context.CreateTimer(started.AddSeconds(job.Timings.DeadlineSeconds), stop.Token);
        var work = RunPlanAsync(context, job, started, stop.Token);
        if (await Task.WhenAny(work, deadline) == deadline)
        {
            // Let the current step end (a timer is canceled, an activity finishes), then undo whatever it stored.
            stop.Cancel();
            try { await work; } catch (TaskCanceledException) { }
            await context.CallActivityAsync(GenerationActivities.Discard, context.InstanceId, ActivityRetries);
            return Fail(context, started, GenerationErrors.UpstreamTimeout,
                $"The generation did not finish within {job.Timings.DeadlineSeconds:0} s (Upstream:DeadlineSeconds).");
        }
        stop.Cancel();
        UpstreamStep outcome;
        try
        {
            outcome = await work;
        }
        catch (TaskFailedException e)
        {
            return Fail(context, started, GenerationErrors.AttemptsExhausted,
                $"The generation gave up after {ActivityAttempts} attempts of {e.TaskName}: {e.FailureDetails.ErrorMessage}");
        }
        if (outcome.Failure is { } failure) return Fail(context, started, failure.Code, failure.Message);
        context.SetCustomStatus(new JobProgress("succeeded", 1, started));
        return outcome.Stored!;
    }

    static async Task<UpstreamStep> RunPlanAsync(TaskOrchestrationContext context, GenerationJob job, DateTime started, CancellationToken stop)
    {
        string? reasons = null;
        for (var index = 0; index < job.Models.Count; index++)
        {
            var model = job.Models[index];
            var step = await RunModelAsync(context, new UpstreamCall(context.InstanceId, job.Request, index, model, FallbackReason: reasons),
                job.Timings, started, stop);
            if (step.Failure is not { } failure) return step;
            if (failure.Retryable && index + 1 < job.Models.Count)
            {
                reasons = FallbackReasons.Join(reasons, model, failure.Message);
                continue;
            }
            // The job ends here: say which model failed, and what happened to the ones before it.
            return new UpstreamStep(Failure: failure with { Message = FallbackReasons.Join(reasons, model, failure.Message) });
        }
        throw new InvalidOperationException("A job without models.");
    }

    static async Task<UpstreamStep> RunModelAsync(TaskOrchestrationContext context, UpstreamCall call, JobTimings timings, DateTime started,
        CancellationToken stop)
    {
        var step = await context.CallActivityAsync<UpstreamStep>(GenerationActivities.Submit, call, ActivityRetries);
        for (var check = 1; step.TaskId is { } taskId && step.Failure is null && step.Stored is null && step.Ready is null; check++)
        {
            if (step.Progress is { } progress) context.SetCustomStatus(new JobProgress("generating", progress, started));
            await context.CreateTimer(timings.CheckDelay(check), stop);
            step = await context.CallActivityAsync<UpstreamStep>(GenerationActivities.Check, call with { TaskId = taskId }, ActivityRetries);
        }
        if (step.Ready is { } ready)
        {
            context.SetCustomStatus(new JobProgress("storing", 0.99, started));
            step = await context.CallActivityAsync<UpstreamStep>(GenerationActivities.Store, new StoreCall(call, ready), ActivityRetries);
        }
        return step;
    }

    static JobResult Fail(TaskOrchestrationContext context, DateTime started, string code, string message)
    {
        context.SetCustomStatus(new JobProgress("failed", null, started, code, message));
        throw new GenerationFailedException(code, message);
    }
}
