using Functions.Generation;
using Functions.Generation.Providers;
using Functions.Storage;
using System.Text.Json.Nodes;
using Functions.Contracts.Kioai;
using Microsoft.DurableTask.Client;

namespace Functions.Jobs;

/// <summary>
/// The orchestration's side effects, each idempotent by job id. Provider failures come back as data
/// (<see cref="StepFailure"/>); anything else throws and the orchestrator's retry policy runs the activity again.
/// </summary>
public sealed class GenerationActivities(ModelCatalog catalog, ProviderSelector providers, FileReferences references, UpstreamImages images, ImageKeeper keeper,
    CancelRequests cancels, SubmitClaims claims, TimeProvider clock, ILogger<GenerationActivities> logger)
{
    public const string Submit = "SubmitGeneration";
    public const string Check = "CheckGeneration";
    public const string Store = "StoreGeneration";
    public const string Discard = "DiscardGeneration";

    /// <summary>Sends the job to its model's upstream: a task id to check, or (a synchronous provider) the image, stored at once.</summary>
    [Function(Submit)]
    public async Task<UpstreamStep> SubmitGeneration([ActivityTrigger] UpstreamCall call, [DurableClient] DurableTaskClient client)
    {
        // A job the engine started after its cancel (DurableJobs.WasCanceled) calls no upstream: it is terminated again, now that it runs.
        var job = await client.GetInstanceAsync(call.JobId, getInputsAndOutputs: true);
        if (DurableJobs.WasCanceled(job))
        {
            logger.LogInformation("Job {JobId} was canceled before its submit; it ends without it", call.JobId);
            // Not a job that is gone (purged): DurableTask.AzureStorage fails on a terminate for an instance with neither
            // row nor history and takes it again for good. One the row shows terminated is terminated again: the start's
            // checkpoint sends this step before it writes the row as running. And again by a Submit after the orchestrator's
            // wait (AfterCancel): the terminate it waited for was lost (seen with two processes completing one step of it at
            // once: one completion fails, its messages with it), and it would wait Submit after Submit until its deadline. It lands on a
            // running job, and a canceled job is purged only a day later, so none is left over for a purge to strand.
            if (job is not null) await client.TerminateJobAsync(call.JobId, CancellationToken.None);
            return Canceled();
        }
        // Nor does a running job whose cancel was asked for: the engine applies its terminate at the job's next step,
        // after this one, and the orchestrator waits for it.
        if (await cancels.WasRequestedAsync(call.JobId, CancellationToken.None))
        {
            logger.LogInformation("Job {JobId} was canceled as its submit was sent; it ends without it", call.JobId);
            if (job is not null && call.AfterCancel) await client.TerminateJobAsync(call.JobId, CancellationToken.None); // lost, as above
            return Canceled();
        }
        return await SubmitOnceAsync(call, client);
    }

    /// <summary>Sends the submit if this run claims it (<see cref="SubmitClaims"/>), else answers what the run that did got.</summary>
    async Task<UpstreamStep> SubmitOnceAsync(UpstreamCall call, DurableTaskClient client)
    {
        PlannedModel planned;
        ProviderCall input;
        try
        {
            (planned, input) = await PrepareAsync(call, withReference: true);
        }
        catch (GenerationFailedException e)
        {
            return Failed(e);
        }
        // The offline renderer bills nothing and draws the same image again: a run again renders (its store keeps the first image).
        if (planned.Provider is OfflineRenderer) return await StepAsync(call, client, planned, input, planned.Provider.SubmitAsync);
        if (await claims.TryClaimAsync(call.JobId, call.ModelIndex, CancellationToken.None) is not { } claim)
        {
            var earlier = await claims.EarlierAnswerAsync(call.JobId, call.ModelIndex, CancellationToken.None);
            // A synchronous provider's image is stored within the submit: a run cut off after that store, or that failed after
            // it (recorded as interrupted), leaves the image, and the job keeps it.
            if (earlier is null or { Failure.Code: GenerationErrors.SubmitInterrupted } && !planned.Provider.Asynchronous
                && await keeper.FindStoredForJobAsync(call.JobId, call.Request, RecoveredDebug(call), CancellationToken.None) is { } stored)
            {
                logger.LogWarning("Job {JobId}'s submit to {Model} ran again after a run that stored its image ended without its answer; the job keeps that image, and nothing is sent",
                    call.JobId, call.Model);
                return await AfterStoredAsync(call, client, stored);
            }
            if (earlier is not null)
            {
                logger.LogInformation("Job {JobId}'s submit to {Model} ran again; it answers what the first run got, and sends nothing", call.JobId, call.Model);
                return earlier;
            }
            logger.LogWarning("Job {JobId}'s submit to {Model} ran again after a run cut off during its call; it is not sent again ({Code})",
                call.JobId, call.Model, GenerationErrors.SubmitInterrupted);
            return Interrupted();
        }
        UpstreamStep step;
        try
        {
            var sent = await BeforeDeadlineAsync(call, bound => planned.Provider.SubmitAsync(input, bound),
                beat: cancellationToken => claims.BeatAsync(claim, cancellationToken));
            step = await AnswerAsync(call, client, planned, sent);
        }
        catch (GenerationFailedException e)
        {
            step = Failed(e);
        }
        catch (Exception e)
        {
            // Sent, then a fault of the service's (the image could not be stored): the engine runs this step again, which must not send it again.
            // Its run again answers "interrupted" without the cause, which only this line tells (the Durable worker's own logs are off locally).
            if (e is not OperationCanceledException)
                logger.LogError(e, "Job {JobId}'s submit to {Model} failed in the service; the model ends as interrupted ({Code})", call.JobId, call.Model,
                    GenerationErrors.SubmitInterrupted);
            await RecordAsync(call, claim, Interrupted());
            throw;
        }
        await RecordAsync(call, claim, step);
        return step;
    }

    // The failure trail names the model before it ("grok: ...").
    static UpstreamStep Interrupted() => new(Failure: new StepFailure(GenerationErrors.SubmitInterrupted,
        "the submit was cut off under way (the service stopped, or failed once it was sent); the upstream may " +
        "have taken, and billed, it, so it is not sent again.", Retryable: true,
        Advice: " Send the request again (with a new Idempotency-Key, or DELETE this job first)."));

    // The answer (maybe paid for) stands whether or not it is recorded: only a second run of this step would miss it.
    async Task RecordAsync(UpstreamCall call, SubmitClaim claim, UpstreamStep answer)
    {
        try
        {
            switch (await claims.RecordAsync(claim, answer, CancellationToken.None))
            {
                case SubmitClaims.Recording.ClaimLost:
                    logger.LogWarning("Job {JobId}'s submit to {Model} was answered after the job had moved on without it (this run stopped for a while); the answer is not recorded",
                        call.JobId, call.Model);
                    break;
                case SubmitClaims.Recording.TooLarge:
                    logger.LogWarning("Job {JobId}: its submit's answer from {Model} is too large to record; a second run of the step would end the model as interrupted",
                        call.JobId, call.Model);
                    break;
            }
        }
        catch (Exception e) when (StorageFaults.IsStorage(e))
        {
            logger.LogWarning("Job {JobId}: its submit's answer could not be recorded ({Reason}); a second run of the step would end the model as interrupted",
                call.JobId, e.Message);
        }
    }

    /// <summary>Asks the upstream how its task is doing; a failed check is not a failed task (the provider says pending).</summary>
    [Function(Check)]
    public Task<UpstreamStep> CheckGeneration([ActivityTrigger] UpstreamCall call, [DurableClient] DurableTaskClient client) =>
        StepAsync(call, client, withReference: false, (planned, input, bound) => planned.Provider.CheckAsync(input, call.TaskId!, bound));

    /// <summary>Fetches a finished task's image (URL and size rules of <see cref="UpstreamImages"/>) and keeps it.</summary>
    [Function(Store)]
    public async Task<UpstreamStep> StoreGeneration([ActivityTrigger] StoreCall store, [DurableClient] DurableTaskClient client)
    {
        var call = store.Call;
        try
        {
            var planned = await PlannedAsync(call, followsTask: true);
            var (bytes, type) = await BeforeDeadlineAsync(call, bound => images.DownloadAsync(store.Image.Url, bound));
            var image = GeneratedImage.Of(bytes, type, store.Image.Debug);
            return await KeepAsync(call, client, planned.Provider.Name, image);
        }
        catch (GenerationFailedException e)
        {
            return Failed(e);
        }
    }

    /// <summary>Removes what a job stored, for a job that ended without its image.</summary>
    [Function(Discard)]
    public Task DiscardGeneration([ActivityTrigger] string jobId) => keeper.DiscardAsync(jobId, CancellationToken.None);

    async Task<UpstreamStep> StepAsync(UpstreamCall call, DurableTaskClient client, bool withReference,
        Func<PlannedModel, ProviderCall, CancellationToken, Task<ProviderStep>> send)
    {
        PlannedModel planned;
        ProviderCall input;
        try
        {
            (planned, input) = await PrepareAsync(call, withReference);
        }
        catch (GenerationFailedException e)
        {
            return Failed(e);
        }
        return await StepAsync(call, client, planned, input, (sent, bound) => send(planned, sent, bound));
    }

    async Task<UpstreamStep> StepAsync(UpstreamCall call, DurableTaskClient client, PlannedModel planned, ProviderCall input,
        Func<ProviderCall, CancellationToken, Task<ProviderStep>> send)
    {
        try
        {
            return await AnswerAsync(call, client, planned, await BeforeDeadlineAsync(call, bound => send(input, bound)));
        }
        catch (GenerationFailedException e)
        {
            return Failed(e);
        }
    }

    // A check sends no image: the reference (up to 10 MiB) is read for the submit only, not at every check.
    async Task<(PlannedModel Planned, ProviderCall Input)> PrepareAsync(UpstreamCall call, bool withReference)
    {
        var planned = await PlannedAsync(call, followsTask: !withReference);
        var reference = withReference ? await references.ReadAsync(call.Request.ReferenceFileId, CancellationToken.None) : null;
        return (planned, new ProviderCall(ProviderRequest.For(call.Request, reference), planned.Model, planned.Entry, planned.Token));
    }

    async Task<UpstreamStep> AnswerAsync(UpstreamCall call, DurableTaskClient client, PlannedModel planned, ProviderStep step)
    {
        if (step.Image is { } image) return await KeepAsync(call, client, planned.Provider.Name, image);
        if (step.ImageUrl is { } url) return new UpstreamStep(Ready: new ReadyImage(url, step.Debug!));
        // One line a failed check, naming its job: until the deadline nothing else says that the task cannot be followed.
        if (step.CheckFailed is { } why)
            logger.LogInformation("Job {JobId}: a status check of {Model}'s task failed ({Reason}); it checks again", call.JobId, call.Model, why);
        return new UpstreamStep(TaskId: step.TaskId, Progress: step.Progress >= 0 ? step.Progress : null, CheckFailed: step.CheckFailed);
    }

    static UpstreamStep Failed(GenerationFailedException e) => new(Failure: StepFailure.Of(e));

    static UpstreamStep Canceled() =>
        new(Failure: new StepFailure(GenerationErrors.Canceled, JobRecord.CanceledMessage, Retryable: false));

    /// <summary>
    /// An upstream call, cut at the job's deadline so that the orchestrator's deadline timer is not kept waiting on it,
    /// and when the job's cancel is recorded: a terminate does not stop an activity, and a call that hangs would hold
    /// its activity slot, which other jobs wait for, up to its attempt timeout. The storing of what it made is never
    /// cut. (A token source takes at most about 49 days: a later deadline is left to the timer.)
    /// </summary>
    async Task<T> BeforeDeadlineAsync<T>(UpstreamCall call, Func<CancellationToken, Task<T>> upstream, Func<CancellationToken, Task>? beat = null)
    {
        var left = call.Deadline is { } deadline ? deadline - clock.GetUtcNow().UtcDateTime : TimeSpan.MaxValue;
        using var bound = left < TimeSpan.FromDays(49) ? new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, clock) : new CancellationTokenSource();
        using var canceled = new CancellationTokenSource();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(bound.Token, canceled.Token);
        using var callEnded = new CancellationTokenSource();
        var watch = CancelOnRequestAsync(call.JobId, canceled, beat, callEnded.Token);
        try
        {
            return await upstream(either.Token);
        }
        catch (OperationCanceledException) when (canceled.IsCancellationRequested)
        {
            logger.LogInformation("Job {JobId} was canceled while an upstream call was under way; the call is stopped", call.JobId);
            throw new GenerationFailedException(GenerationErrors.StoppedByCancel, "A cancel stopped the upstream call under way.");
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested)
        {
            throw new GenerationFailedException(GenerationErrors.UpstreamTimeout, "The job's deadline came while this call was under way.");
        }
        finally
        {
            await callEnded.CancelAsync();
            await watch;
        }
    }

    // Most calls end before the first look; a slow one costs a point read per interval.
    static readonly TimeSpan CancelLookInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Cancels <paramref name="call"/> once the job's cancel is recorded (by a DELETE on any instance), looking until the
    /// call ends, and beats (<see cref="SubmitClaims.BeatAsync"/>) at each look.
    /// </summary>
    async Task CancelOnRequestAsync(string jobId, CancellationTokenSource call, Func<CancellationToken, Task>? beat, CancellationToken callEnded)
    {
        while (!callEnded.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(CancelLookInterval, clock, callEnded);
                if (beat is not null) await beat(callEnded);
                if (!await cancels.WasRequestedAsync(jobId, callEnded)) continue;
                await call.CancelAsync();
                return;
            }
            catch (OperationCanceledException) when (callEnded.IsCancellationRequested) { }
            catch (Exception e)
            {
                // Never the call's failure: its answer (maybe paid for) stands; the deadline still bounds it.
                logger.LogWarning("Job {JobId}: a look at its cancel record (or a beat of its submit) failed ({Reason}); looking again", jobId, e.Message);
            }
        }
    }

    /// <summary>
    /// The model this step is for, as the plan has it now: the settings may have changed since the job was planned (a
    /// restart). A token removed meanwhile ends the job; a model taken out of the catalog, or moved to a provider that
    /// has no task to check, ends the model, and the next of the plan runs. A check or a store follows an upstream's
    /// answer, so the offline renderer (the plan when no token is left) cannot take it over.
    /// </summary>
    async Task<PlannedModel> PlannedAsync(UpstreamCall call, bool followsTask)
    {
        // By name: a job planned by an earlier version may have its models at other places in today's plan. A requested
        // model taken out of the catalog has no chain any more: each of its fallbacks is then planned on its own.
        var head = catalog.Find(call.Request.Model) is null ? call.Model : call.Request.Model;
        var plan = await providers.PlanAsync(head, call.Request.ReferenceFileId is not null, CancellationToken.None);
        // The offline renderer (the plan when no token is left) stands in for the requested model's submit only.
        var planned = plan.FirstOrDefault(p => p.Model == call.Model
            && !(p.Provider is OfflineRenderer && (followsTask || call.Model != call.Request.Model)));
        if (catalog.Find(call.Model) is null)
            throw new GenerationFailedException(GenerationErrors.ProviderUnavailable, $"{call.Model} was taken out of the model catalog while the job ran.", retryable: true);
        if (planned is null)
            throw new GenerationFailedException(GenerationErrors.TokenNotConfigured, $"The token for {call.Model} was removed while the job ran.");
        if (followsTask && !planned.Provider.Asynchronous)
            throw new GenerationFailedException(GenerationErrors.ProviderUnavailable,
                $"{call.Model} was moved to the {planned.Provider.Name} provider while the job ran; its task at the earlier one is not followed.", retryable: true);
        return planned;
    }

    /// <summary>
    /// Stores the image, then looks at the job once more: a job canceled meanwhile (terminated while this ran) keeps
    /// nothing, whichever of the two removals (the canceler's or this one) comes last.
    /// </summary>
    async Task<UpstreamStep> KeepAsync(UpstreamCall call, DurableTaskClient client, string provider, GeneratedImage image) =>
        await AfterStoredAsync(call, client, await keeper.StoreForJobAsync(call.JobId, call.Request, provider,
            image.AfterFallbacks(call.ModelIndex, call.FallbackReason), CancellationToken.None));

    async Task<UpstreamStep> AfterStoredAsync(UpstreamCall call, DurableTaskClient client, JobResult stored)
    {
        if (await WasCanceledOnceStoredAsync(call.JobId, client))
        {
            logger.LogInformation("Job {JobId} was canceled while its image was stored", call.JobId);
            await keeper.DiscardAsync(call.JobId, CancellationToken.None);
        }
        return new UpstreamStep(Stored: stored);
    }

    // The run that made the image kept no account of its upstream call (it ended before recording its answer): apiDebug says so.
    static ApiDebugInfo RecoveredDebug(UpstreamCall call) => ApiDebugRedaction.Create($"recovered://{Uri.EscapeDataString(call.Model)}", "POST", [],
        [], 200, new JsonObject { ["note"] = "This image was stored by an earlier run of the job's step, which ended (cut off, or failed after the store) without recording the upstream call's details." },
        TimeSpan.Zero, call.ModelIndex > 0, call.FallbackReason);

    // The image is stored and paid for: a job engine that does not answer now must not fail this step, whose next run
    // would ask the upstream again (a synchronous provider bills a second image). The cancel record answers instead:
    // a DELETE writes it before it asks the engine to terminate the job.
    async Task<bool> WasCanceledOnceStoredAsync(string jobId, DurableTaskClient client)
    {
        try
        {
            return await client.WasCanceledAsync(jobId);
        }
        catch (Exception e) when (JobEngineFaults.IsFailure(e))
        {
            logger.LogWarning("Job {JobId} stored its image, but the job engine did not answer whether it was canceled meanwhile; its cancel record answers ({Reason})",
                jobId, e.Message);
            return await cancels.WasRequestedAsync(jobId, CancellationToken.None);
        }
    }
}
