using Functions.Contracts.Kiapi;
using Functions.Contracts.Kioai;
using Functions.Files;
using Functions.Generation.Providers;
using Functions.Jobs;
using Microsoft.DurableTask.Client;

namespace Functions.Generation;

/// <summary>Makes a generate request a job (the one its Idempotency-Key made, or a new one) and answers for it: 202, or the job as it ended within the wait.</summary>
public sealed class GenerateAsJob(
    JobSubmitter submitter, FileStore files, PublicUrls urls, IOptions<GenerationOptions> options, IOptions<UpstreamOptions> upstream, TimeProvider clock,
    IHostApplicationLifetime lifetime, ILogger<GenerateImage> logger) // the function's category: its lines keep the name they were logged under
{
    /// <summary>How long storing a job's reference copy and scheduling it may take, whatever the client does.</summary>
    static readonly TimeSpan CommitBound = JobSubmitter.ScheduleGrace + TimeSpan.FromSeconds(30);

    /// <summary>The job the key's earlier request made, to answer for (409 when the key came with another body); null when there is none.</summary>
    public async Task<GenerateImage.Intake?> ReplayAsync(DurableTaskClient durable, IdempotencyRequest idempotency, PreferHeader prefer,
        CancellationToken cancellationToken)
    {
        Submission? replay;
        try { replay = await submitter.ReplayAsync(durable, idempotency, cancellationToken); }
        catch (IdempotencyKeyReusedException) { return KeyReused(idempotency.Key); }
        return replay is null ? null : new GenerateImage.Intake(null, replay, prefer);
    }

    /// <summary>Schedules the job, after storing its copy of an inline reference: the job to answer for, or the answer when scheduling failed.</summary>
    public async Task<GenerateImage.Intake> SubmitAsync(HttpRequest request, DurableTaskClient durable, GenerateImageInput input,
        IReadOnlyList<PlannedModel> plan, IdempotencyRequest? idempotency, PreferHeader prefer, CancellationToken cancellationToken)
    {
        // A request received in full becomes a job whether or not its client stays: cut off between the reference copy
        // and the schedule, it would leave a copy no job owns, or a job the request does not know was scheduled. Storage
        // calls end within their retries and the local host's Durable client within its waits; under the Functions host
        // the Durable client's calls have no bound of their own, so this one bounds them all (past a key's schedule grace).
        using var commitBound = new CancellationTokenSource(CommitBound, clock);
        var committed = commitBound.Token;
        var jobId = JobIds.New(clock.GetUtcNow(), input.IsPrivate);
        // An inline reference is kept as a private file: the job's activities read it by id. It names its job, so that
        // a copy whose job never appeared can be found and removed (OrphanFiles).
        var referenceId = input.ReferenceFileId;
        if (input.ReferenceImage is { } inlineReference)
        {
            referenceId = FileIds.New(clock.GetUtcNow());
            var type = input.ReferenceInfo!.ContentType;
            var meta = input.ReferenceInfo.Meta(FileKinds.Reference);
            meta[FileStore.JobKey] = jobId;
            await files.SaveAsync(referenceId, inlineReference, type, $"reference.{ImageFormats.ExtensionOf(type)}",
                clock.GetUtcNow(), isPrivate: true, meta, committed);
        }
        // The inline reference's copy goes when no job of this request will read it; a file the client named stays.
        Task DropReferenceCopyAsync() => input.ReferenceImage is null ? Task.CompletedTask : files.DeleteAsync(referenceId!, CancellationToken.None);
        Submission submission;
        try
        {
            submission = await submitter.SubmitAsync(durable, jobId, input.RequestOf(referenceId), plan, idempotency, committed,
                referenceIsCopy: input.ReferenceImage is not null);
        }
        catch (JobDeletedException e)
        {
            await DropReferenceCopyAsync();
            return JobDeleted(e);
        }
        catch (Exception e) when (JobEngineFaults.IsOutage(e))
        {
            // Never scheduled: the reference copy has no job to serve. The outage itself answers 503 (SurfaceErrors).
            await DropReferenceCopyAsync();
            throw;
        }
        catch (JobUnconfirmedException e)
        {
            // Not "try again": a repeat could make a second job. The reference copy stays, for the job that may run.
            // An outage's passing fault: one line, naming the job (it may run), not the engine client's stack.
            logger.LogWarning("Scheduling job {JobId} was not confirmed ({Reason}); it may run", jobId, FaultText.Of(e.InnerException ?? e));
            return KioaiErrors.Of(StatusCodes.Status503ServiceUnavailable, KioaiErrorCodes.JobsUnavailable, e.Message);
        }
        catch (Exception e) when (commitBound.IsCancellationRequested && JobEngineFaults.IsCancellation(e))
        {
            // Not "try again": the job may have been scheduled. The reference copy stays, for the job that may run.
            logger.LogWarning("Scheduling job {JobId} did not finish within {Seconds} s", jobId, CommitBound.TotalSeconds);
            return KioaiErrors.Of(StatusCodes.Status503ServiceUnavailable, KioaiErrorCodes.JobsUnavailable, new JobUnconfirmedException(jobId, idempotency is not null, e).Message);
        }
        catch (IdempotencyKeyReusedException)
        {
            await DropReferenceCopyAsync();
            return KeyReused(idempotency!.Key);
        }
        catch (IdempotencyKeyInProgressException e)
        {
            await DropReferenceCopyAsync();
            GenerateImage.SetRetryAfter(request, e.RetryAfter);
            return KioaiErrors.Of(StatusCodes.Status409Conflict, KioaiErrorCodes.IdempotencyKeyInProgress, e.Message);
        }
        // A concurrent request with the same key won: the reference stored for this one is not needed.
        if (submission.Replayed) await DropReferenceCopyAsync();
        return new GenerateImage.Intake(null, submission, prefer);
    }

    /// <summary>202 at once when asked (respond-async, or a wait bound of 0) and the job has not ended; otherwise wait up to the bound, then answer as the job ended.</summary>
    public async Task<Results<Ok<GenerateImageResponse>, JsonHttpResult<KiapiJob>, JsonHttpResult<ErrorResponse>>> AnswerAsync(
        HttpRequest request, DurableTaskClient durable, Submission submission, PreferHeader prefer, long arrived, CancellationToken cancellationToken)
    {
        var job = submission.Job;
        if (submission.Replayed) request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        if ((prefer.RespondAsync || WaitBound(prefer) <= 0) && !job.Status.IsTerminal())
        {
            if (prefer.RespondAsync) request.HttpContext.Response.Headers["Preference-Applied"] = "respond-async";
            return Accepted(request, urls, job);
        }
        JobRecord? current;
        bool deleted;
        // A stop ends the wait: the job goes on (after a restart, or on another instance) and the client polls it, rather
        // than the wait holding the server's stop, and with it the job engine's, until the shutdown bound cuts both.
        var stopping = lifetime.ApplicationStopping;
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        try
        {
            (current, deleted) = job.Status.IsTerminal() ? (job, false)
                : await submitter.WaitAsync(durable, job.Id, TimeSpan.FromSeconds(WaitBound(prefer)) - clock.GetElapsedTime(arrived), waiting.Token);
        }
        catch (Exception e) when (JobEngineFaults.IsOutage(e)
                                  || (stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested && JobEngineFaults.IsCancellation(e)))
        {
            // The job exists; losing sight of it while waiting must not make the client submit it again.
            if (JobEngineFaults.IsOutage(e)) return Accepted(request, urls, job);
            // At a stop the engine still answers for a moment: the job as it is now (running, say, or just ended), not as
            // it was scheduled; as it was scheduled when that read fails.
            (current, deleted) = await submitter.NowOrAsync(durable, job, StopReadBound);
        }
        if (deleted || current is null) return JobDeleted(new JobDeletedException(job.Id));
        if (!current.Status.IsTerminal()) return Accepted(request, urls, current); // as it is now: running, with its progress
        if (current.Status != JobStatus.Succeeded || current.Result is not { } result) return ErrorOf(request, current, submission.Replayed);
        // A replay answers with the image the key made; if that image has been deleted since, there is none to give.
        if (submission.Replayed && await files.GetAsync(result.FileId, cancellationToken) is null)
            return KioaiErrors.Of(StatusCodes.Status409Conflict, KioaiErrorCodes.ImageDeleted,
                $"The image this Idempotency-Key produced (id {result.ImageId}) was deleted; send a new key to generate again.");
        return GenerateImage.Succeeded(request, urls, current.Request, result);
    }

    /// <summary>How long a request waiting on its job at a stop spends reading the job once more, before it answers 202.</summary>
    static readonly TimeSpan StopReadBound = TimeSpan.FromSeconds(0.5);

    /// <summary>How long the client waits: the sync bound (Generation:SyncWaitSeconds), or less when <c>Prefer: wait=n</c> asks.</summary>
    public int WaitBound(PreferHeader prefer) => Math.Min(prefer.WaitSeconds ?? options.Value.SyncWaitSeconds, options.Value.SyncWaitSeconds);

    static JsonHttpResult<ErrorResponse> JobDeleted(JobDeletedException e) => KioaiErrors.Of(StatusCodes.Status409Conflict, KioaiErrorCodes.JobDeleted, e.Message);

    static JsonHttpResult<ErrorResponse> KeyReused(string key) =>
        KioaiErrors.Of(StatusCodes.Status409Conflict, KioaiErrorCodes.IdempotencyKeyReused, new IdempotencyKeyReusedException(key).Message);

    /// <summary>The async request-reply answer: 202, the job, where to poll it (Location, and statusQueryGetUri in the body) and how soon.</summary>
    public static JsonHttpResult<KiapiJob> Accepted(HttpRequest request, PublicUrls urls, JobRecord job)
    {
        var location = urls.Job(request, job.Id);
        request.HttpContext.Response.Headers.Location = location;
        request.HttpContext.Response.Headers.RetryAfter = JobRecord.PollAfterSeconds;
        return TypedResults.Json(job.ToKiapi(id => urls.FileDownload(request, id)) with { StatusQueryGetUri = location },
            AppJsonContext.Api.KiapiJob, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// A job that ended without an image, with the status its error code means (see <see cref="GenerationErrors"/>); the
    /// message names the job (a private one is not listed, and deleting it frees its Idempotency-Key).
    /// </summary>
    JsonHttpResult<ErrorResponse> ErrorOf(HttpRequest request, JobRecord job, bool replayed)
    {
        if (job.Status == JobStatus.Canceled) return KioaiErrors.Of(StatusCodes.Status409Conflict, KioaiErrorCodes.JobCanceled, $"Job {job.Id} was canceled.");
        var status = GenerationErrors.StatusOf(job.ErrorCode);
        // An open circuit failed it: calls resume at most the break after the job ended, as an inline generation's 503
        // says. Not on a replay, nor once the break is over: the same key answers this failure again, whenever it is sent.
        // Nor for another 503 (submit_interrupted), which the break says nothing about.
        var breakLeft = (job.FinishedAt ?? clock.GetUtcNow()) + TimeSpan.FromSeconds(upstream.Value.BreakSeconds) - clock.GetUtcNow();
        if (job.ErrorCode == GenerationErrors.ProviderUnavailable && !replayed && breakLeft > TimeSpan.Zero) GenerateImage.SetRetryAfter(request, breakLeft);
        return KioaiErrors.Of(status, job.ErrorCode ?? GenerationErrors.GenerationFailed,
            $"{job.Error ?? GenerationErrors.GenerationFailedMessage} (job {job.Id})");
    }
}
