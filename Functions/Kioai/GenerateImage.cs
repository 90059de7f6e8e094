using Functions.Files;
using Functions.Generation;
using Functions.Hosting;
using Functions.Jobs;
using Functions.Kiapi;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Functions.Kioai;

public static class GenerateImage
{
    /// <summary>
    /// Validates, submits a job and waits for it up to the sync bound: 200 with the image when it ends in time, else 202
    /// with Location and Retry-After pointing at the job. <c>Prefer: respond-async</c> answers 202 at once;
    /// <c>Prefer: wait=n</c> shortens the wait. With an <c>Idempotency-Key</c>, a repeat of the same body within 24 h
    /// answers for the first request's job (<c>Idempotent-Replayed: true</c>); another body with that key gets 409.
    /// </summary>
    public static async Task<Results<Ok<GenerateImageResponse>, JsonHttpResult<KiapiJob>, JsonHttpResult<ErrorResponse>>> Handle(
        HttpRequest request, ModelCatalog catalog, ProviderSelector providers, FileStore files, JobSubmitter submitter,
        JobStore jobs, IdempotencyKeys keys, PublicUrls urls, IOptions<GenerationOptions> options, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var key = request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } given ? given : null;
        if (key is not null && !IdempotencyKeys.IsValid(key))
            return KioaiErrors.BadRequest("invalid_idempotency_key",
                $"Idempotency-Key must be 1 to {IdempotencyKeys.MaxKeyLength} printable ASCII characters.");
        var (document, failure, body) = await RequestBody.ReadJsonAsync(request, GenerateImageValidator.MaxBodyBytes, cancellationToken);
        if (failure is not null) return KioaiErrors.BadRequest(failure.Code, failure.Message);
        GenerateImageInput input;
        using (document)
        {
            var (validated, error) = GenerateImageValidator.Validate(document!.RootElement, catalog);
            if (error is not null) return KioaiErrors.BadRequest(error);
            input = validated!;
        }
        var idempotency = key is null ? null : new IdempotencyRequest(key, IdempotencyKeys.HashOf(body.Span));
        var prefer = PreferHeader.Of(request);

        if (idempotency is not null && await keys.FindAsync(idempotency.Key, cancellationToken) is { } used)
        {
            if (used.BodyHash != idempotency.BodyHash) return KeyReused(idempotency.Key);
            if (await jobs.GetAsync(used.JobId, cancellationToken) is { } earlier)
                return await AnswerAsync(request, new Submission(earlier, Replayed: true), prefer, submitter, urls, options.Value, cancellationToken);
        }

        if ((await providers.PlanAsync(input.Model, cancellationToken)).Count == 0)
            return KioaiErrors.BadRequest(GenerationErrors.TokenNotConfigured, $"No token is configured for the provider of '{input.Model}' or its " +
                "fallbacks (POST /api/config/token, /api/config/providers/{provider}/token) and the offline renderer is off (Generation:OfflineRenderer).");

        var (referenceId, referenceError) = await ReferenceAsync(input, files, clock, cancellationToken);
        if (referenceError is not null) return referenceError;

        Submission submission;
        try
        {
            submission = await submitter.SubmitAsync(new GenerationRequest(input.Prompt, input.Style, input.AspectRatio, input.Model,
                input.Resolution, input.IsPrivate, input.Seed, referenceId), willWait: !prefer.RespondAsync, idempotency, cancellationToken);
        }
        catch (IdempotencyKeyReusedException)
        {
            if (input.ReferenceImage is not null) await files.DeleteAsync(referenceId!, CancellationToken.None);
            return KeyReused(idempotency!.Key);
        }
        // A concurrent request with the same key won: the reference stored for this one is not needed.
        if (submission.Replayed && input.ReferenceImage is not null) await files.DeleteAsync(referenceId!, CancellationToken.None);
        return await AnswerAsync(request, submission, prefer, submitter, urls, options.Value, cancellationToken);
    }

    /// <summary>202 at once when asked and the job has not ended; otherwise wait up to the bound, then answer as the job ended.</summary>
    static async Task<Results<Ok<GenerateImageResponse>, JsonHttpResult<KiapiJob>, JsonHttpResult<ErrorResponse>>> AnswerAsync(
        HttpRequest request, Submission submission, PreferHeader prefer, JobSubmitter submitter, PublicUrls urls,
        GenerationOptions options, CancellationToken cancellationToken)
    {
        var job = submission.Job;
        if (submission.Replayed) request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        if (prefer.RespondAsync && !job.Status.IsTerminal())
        {
            request.HttpContext.Response.Headers["Preference-Applied"] = "respond-async";
            return Accepted(request, urls, job);
        }

        try
        {
            var bound = Math.Min(prefer.WaitSeconds ?? options.SyncWaitSeconds, options.SyncWaitSeconds);
            var ended = job.Status.IsTerminal() ? job : await submitter.WaitAsync(job.Id, TimeSpan.FromSeconds(bound), cancellationToken);
            if (ended is null) return Accepted(request, urls, job);
            if (ended.Status != JobStatus.Succeeded || ended.Result is not { } result) return KioaiErrors.ForEndedJob(ended);

            var r = ended.Request;
            return TypedResults.Ok(new GenerateImageResponse(result.ImageId, urls.FileDownload(request, result.FileId), r.Prompt, r.Style,
                r.AspectRatio, r.Model, result.CreatedAt.UtcDateTime, result.ApiDebug));
        }
        finally
        {
            submitter.StopWaiting(job.Id);
        }
    }

    /// <summary>The reference's file id: an inline image is stored as a new private file; a named file must exist and be an accepted image that decodes.</summary>
    static async Task<(string? FileId, JsonHttpResult<ErrorResponse>? Error)> ReferenceAsync(
        GenerateImageInput input, FileStore files, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (input.ReferenceImage is { } inline)
        {
            var fileId = FileIds.New(clock.GetUtcNow());
            var type = input.ReferenceInfo!.ContentType;
            await files.SaveAsync(fileId, inline, type, $"reference.{ImageFormats.ExtensionOf(type)}",
                clock.GetUtcNow(), isPrivate: true, input.ReferenceInfo.Meta("reference"), cancellationToken);
            return (fileId, null);
        }
        if (input.ReferenceFileId is not { } named) return (null, null);

        var notFound = KioaiErrors.BadRequest(GenerationErrors.ReferenceNotFound, $"referenceFileId {named} does not exist.");
        var file = await files.GetAsync(named, cancellationToken);
        if (file is null) return (null, notFound);
        if (file.Size > GenerateImageValidator.MaxReferenceBytes)
            return (null, KioaiErrors.BadRequest("reference_image_too_large",
                $"File {named} is larger than {GenerateImageValidator.MaxReferenceBytes / (1024 * 1024)} MiB."));
        // The stored bytes are checked as an inline reference would be: a file stored before that check must not slip through.
        if (await files.ReadAllAsync(named, cancellationToken) is not { } stored) return (null, notFound);
        var check = ImageInspector.Inspect(stored, ImageFormats.Accepted);
        if (check.Image is null)
            return (null, KioaiErrors.BadRequest(GenerateImageValidator.ReferenceRefused(check) with { Message = $"File {named}: {check.Message}" }));
        return (named, null);
    }

    static JsonHttpResult<ErrorResponse> KeyReused(string key) =>
        KioaiErrors.Of(StatusCodes.Status409Conflict, "idempotency_key_reused", new IdempotencyKeyReusedException(key).Message);

    /// <summary>The async request-reply answer: 202, the job, where to poll it (Location, and statusQueryGetUri in the body) and how soon.</summary>
    public static JsonHttpResult<KiapiJob> Accepted(HttpRequest request, PublicUrls urls, JobRecord job)
    {
        var location = urls.Job(request, job.Id);
        request.HttpContext.Response.Headers.Location = location;
        request.HttpContext.Response.Headers.RetryAfter = "2";
        return TypedResults.Json(job.ToKiapi(id => urls.FileDownload(request, id)) with { StatusQueryGetUri = location },
            AppJsonContext.Api.KiapiJob, statusCode: StatusCodes.Status202Accepted);
    }
}
