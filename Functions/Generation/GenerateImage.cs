using Functions.Contracts.Kiapi;
using Functions.Contracts.Kioai;
using Functions.Files;
using Functions.Generation.Providers;
using Functions.Jobs;
using Functions.Storage;
using Microsoft.DurableTask.Client;
using GenerateAnswer = Microsoft.AspNetCore.Http.HttpResults.Results<
    Microsoft.AspNetCore.Http.HttpResults.Ok<Functions.Contracts.Kioai.GenerateImageResponse>,
    Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<Functions.Contracts.Kiapi.KiapiJob>,
    Microsoft.AspNetCore.Http.HttpResults.JsonHttpResult<Functions.Contracts.Kioai.ErrorResponse>>;

namespace Functions.Generation;

/// <summary>
/// POST /api/images/generate. A plan of synchronous providers runs inside this function and answers 200 with the
/// image. An asynchronous upstream, <c>Prefer: respond-async</c>, a wait bound of 0 (<c>Prefer: wait=0</c>, or
/// <c>Generation:SyncWaitSeconds</c> 0) or an <c>Idempotency-Key</c> makes it a job (an orchestration): 202 at once when asked, else a wait up to the sync bound (<c>Prefer: wait=n</c> shortens it), then
/// 200 with the image or 202 with Location and Retry-After. With an <c>Idempotency-Key</c>, a repeat of the same body
/// within 24 h answers for the first request's job (<c>Idempotent-Replayed: true</c>); another body gets 409.
/// </summary>
public sealed class GenerateImage(
    ModelCatalog catalog, ImageInspector inspector, ProviderSelector providers, InlineGeneration inline, JobSubmitter submitter, FileStore files,
    UploadBudget memory, StorageBootstrap bootstrap, PublicUrls urls, IOptions<GenerationOptions> options, IOptions<UpstreamOptions> upstream, TimeProvider clock,
    IHostApplicationLifetime lifetime, ILogger<GenerateImage> logger)
{
    /// <summary>How long storing a job's reference copy and scheduling it may take, whatever the client does.</summary>
    static readonly TimeSpan CommitBound = JobSubmitter.ScheduleGrace + TimeSpan.FromSeconds(30);

    [Function(nameof(GenerateImage))]
    public async Task<Results<Ok<GenerateImageResponse>, JsonHttpResult<KiapiJob>, JsonHttpResult<ErrorResponse>>> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = Routes.Generate)] HttpRequest request,
        [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        // The bounds count from here: the wait a client asks for (Prefer: wait) and an inline generation's, since the
        // platform cuts an answer 230 s after the request, however long reading and checking its body took.
        var arrived = clock.GetTimestamp();
        // Taking the request in ends before any wait for its job, so that its body and reference image (and their share
        // of the upload budget) are let go while the client waits.
        var intake = await TakeInAsync(request, durable, arrived, cancellationToken);
        return intake.Answer ?? await AnswerAsync(request, durable, intake.Submission!, intake.Prefer!, arrived, cancellationToken);
    }

    /// <summary>What taking a request in came to: its answer, or a job to answer for.</summary>
    sealed record Intake(GenerateAnswer? Answer, Submission? Submission = null, PreferHeader? Prefer = null)
    {
        public static implicit operator Intake(GenerateAnswer answer) => new(answer);
        public static implicit operator Intake(JsonHttpResult<ErrorResponse> error) => new((GenerateAnswer)error);
    }

    /// <summary>Reads and checks the body, then runs the generation inline or schedules its job (or finds the key's job).</summary>
    async Task<Intake> TakeInAsync(HttpRequest request, DurableTaskClient durable, long arrived, CancellationToken cancellationToken)
    {
        var key = request.Headers.TryGetValue("Idempotency-Key", out var keyValues) ? keyValues.ToString() : null;
        if (key is not null && (keyValues.Count > 1 || !IdempotencyKeys.IsValid(key)))
            return KioaiErrors.BadRequest(KioaiErrorCodes.InvalidIdempotencyKey,
                $"Idempotency-Key must be 1 to {IdempotencyKeys.MaxKeyLength} printable ASCII characters, in one header.");
        var (document, failure, body, share) = await RequestBody.ReadJsonAsync(request, GenerateImageValidator.MaxBodyBytes,
            (bytes, token) => memory.AcquireAsync(UploadBudget.HeldByGenerateBody(bytes), token), cancellationToken);
        if (failure is not null) return KioaiErrors.Of(failure.Status, failure.Code, failure.Message);
        using var heldShare = share; // a large body's: until the intake ends (generated inline, or its job scheduled)
        var idempotency = key is null ? null : new IdempotencyRequest(key, IdempotencyKeys.HashOf(body.Span));
        GenerateImageInput input;
        using (document)
        {
            var (validated, error) = await GenerateImageValidator.ValidateAsync(document!.RootElement, catalog, inspector, cancellationToken);
            if (error is not null) return KioaiErrors.BadRequest(error);
            input = validated!;
        }
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        var prefer = PreferHeader.Of(request);

        if (idempotency is not null)
        {
            // A repeat is answered before anything is planned or read again.
            Submission? replay;
            try { replay = await submitter.ReplayAsync(durable, idempotency, cancellationToken); }
            catch (IdempotencyKeyReusedException) { return KeyReused(idempotency.Key); }
            if (replay is not null) return new Intake(null, replay, prefer);
        }

        var plan = await providers.PlanAsync(input.Model, input.ReferenceImage is not null || input.ReferenceFileId is not null, cancellationToken);
        if (plan.Count == 0)
            return KioaiErrors.BadRequest(GenerationErrors.TokenNotConfigured, $"No token is configured for the provider of '{input.Model}' or its " +
                "fallbacks (POST /api/config/token, /api/config/providers/{provider}/token) and the offline renderer is off (Generation:OfflineRenderer).");
        var (namedReference, referenceError, namedShare) = await ReadReferenceFileAsync(input, cancellationToken);
        if (referenceError is not null) return referenceError;
        using var heldNamedShare = namedShare;

        // Inline: synchronous providers, and a client that waits (no respond-async, no key to replay, a wait bound above 0).
        if (idempotency is null && !prefer.RespondAsync && WaitBound(prefer) > 0 && InlineGeneration.CanRun(plan))
            return await RunInlineAsync(request, input, plan, input.ReferenceImage ?? namedReference, arrived, cancellationToken);
        return await SubmitAsync(request, durable, input, plan, idempotency, prefer, cancellationToken);
    }

    async Task<GenerateAnswer> RunInlineAsync(
        HttpRequest request, GenerateImageInput input, IReadOnlyList<PlannedModel> plan, byte[]? reference, long arrived, CancellationToken cancellationToken)
    {
        var generation = RequestOf(input, input.ReferenceFileId);
        try
        {
            return Succeeded(request, generation, await inline.RunAsync(generation, plan, reference is null ? (ReadOnlyMemory<byte>?)null : reference,
                clock.GetElapsedTime(arrived), cancellationToken));
        }
        catch (GenerationFailedException e)
        {
            logger.Log(GenerationErrors.LogLevelOf(e.Code), "Generating with {Model} failed ({Code}): {Reason}", input.Model, e.Code,
                PromptsInLogs.Hide(e.Message, input.Prompt));
            if (e.RetryAfter is { } wait) SetRetryAfter(request, wait);
            return KioaiErrors.Of(GenerationErrors.StatusOf(e.Code), e.Code, e.Message);
        }
    }

    async Task<Intake> SubmitAsync(HttpRequest request, DurableTaskClient durable, GenerateImageInput input, IReadOnlyList<PlannedModel> plan,
        IdempotencyRequest? idempotency, PreferHeader prefer, CancellationToken cancellationToken)
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
            submission = await submitter.SubmitAsync(durable, jobId, RequestOf(input, referenceId), plan, idempotency, committed,
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
            SetRetryAfter(request, e.RetryAfter);
            return KioaiErrors.Of(StatusCodes.Status409Conflict, KioaiErrorCodes.IdempotencyKeyInProgress, e.Message);
        }
        // A concurrent request with the same key won: the reference stored for this one is not needed.
        if (submission.Replayed) await DropReferenceCopyAsync();
        return new Intake(null, submission, prefer);
    }

    /// <summary>202 at once when asked (respond-async, or a wait bound of 0) and the job has not ended; otherwise wait up to the bound, then answer as the job ended.</summary>
    async Task<GenerateAnswer> AnswerAsync(
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
        return Succeeded(request, current.Request, result);
    }

    /// <summary>How long a request waiting on its job at a stop spends reading the job once more, before it answers 202.</summary>
    static readonly TimeSpan StopReadBound = TimeSpan.FromSeconds(0.5);

    /// <summary>How long the client waits: the sync bound (Generation:SyncWaitSeconds), or less when <c>Prefer: wait=n</c> asks.</summary>
    int WaitBound(PreferHeader prefer) => Math.Min(prefer.WaitSeconds ?? options.Value.SyncWaitSeconds, options.Value.SyncWaitSeconds);

    Ok<GenerateImageResponse> Succeeded(HttpRequest request, GenerationRequest r, JobResult result) =>
        TypedResults.Ok(new GenerateImageResponse(result.ImageId, urls.FileDownload(request, result.FileId), r.Prompt, r.Style,
            r.AspectRatio, r.Model, result.CreatedAt.UtcDateTime, result.ApiDebug));

    /// <summary>
    /// A named reference file's bytes: it must exist, be within the reference bound and decode as an accepted image,
    /// checked as an inline reference would be, so a file stored before that check cannot slip through.
    /// </summary>
    async Task<(byte[]? Bytes, JsonHttpResult<ErrorResponse>? Error, IDisposable? Share)> ReadReferenceFileAsync(GenerateImageInput input,
        CancellationToken cancellationToken)
    {
        if (input.ReferenceFileId is not { } named) return (null, null, null);
        var notFound = KioaiErrors.BadRequest(GenerationErrors.ReferenceNotFound, $"referenceFileId {named} does not exist.");
        var file = await files.GetAsync(named, cancellationToken);
        if (file is null) return (null, notFound, null);
        // Another job's own copy of its inline reference goes with that job, so it cannot be this one's reference.
        if (file.Kind == FileKinds.Reference)
            return (null, KioaiErrors.BadRequest(GenerationErrors.ReferenceNotFound,
                $"referenceFileId {named} is another job's private copy of its reference image; upload the image (POST /api/v1/files) to name it."), null);
        if (file.Size > GenerateImageValidator.MaxReferenceBytes)
            return (null, KioaiErrors.BadRequest(KioaiErrorCodes.ReferenceImageTooLarge,
                $"File {named} is larger than {GenerateImageValidator.MaxReferenceBytes / (1024 * 1024)} MiB."), null);
        // Held in memory as an upload is, so it shares the uploads' budget.
        var share = await memory.AcquireAsync(UploadBudget.HeldByUpload(file.Size), cancellationToken);
        var kept = false;
        try
        {
            if (await files.ReadAllAsync(named, cancellationToken) is not { } stored) return (null, notFound, null);
            var check = await inspector.InspectAsync(stored, ImageFormats.Accepted, DecodeWait.Bounded, cancellationToken);
            if (check.Image is null)
                return (null, KioaiErrors.BadRequest(GenerateImageValidator.ReferenceRefused(check) with { Message = $"File {named}: {check.Message}" }), null);
            if (input.ReferenceFileDeclaredType is { } declared && declared != check.Image.ContentType)
                return (null, KioaiErrors.BadRequest(KioaiErrorCodes.MediaTypeMismatch, $"referenceImageMime is {declared} but file {named} is {check.Image.ContentType}."), null);
            kept = true;
            return (stored, null, share);
        }
        finally
        {
            if (!kept) share.Dispose();
        }
    }

    static GenerationRequest RequestOf(GenerateImageInput input, string? referenceId) =>
        new(input.Prompt, input.Style, input.AspectRatio, input.Model, input.Resolution, input.IsPrivate, input.Seed, referenceId);

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

    // In whole seconds (RFC 9110), rounded up so that a retry does not come early.
    static void SetRetryAfter(HttpRequest request, TimeSpan wait) =>
        request.HttpContext.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

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
        if (job.ErrorCode == GenerationErrors.ProviderUnavailable && !replayed && breakLeft > TimeSpan.Zero) SetRetryAfter(request, breakLeft);
        return KioaiErrors.Of(status, job.ErrorCode ?? GenerationErrors.GenerationFailed,
            $"{job.Error ?? GenerationErrors.GenerationFailedMessage} (job {job.Id})");
    }
}
