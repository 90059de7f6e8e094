using Functions.Contracts.Kiapi;
using Functions.Contracts.Kioai;
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
    GenerateRequestReader requests, StorageBootstrap bootstrap, ProviderSelector providers, InlineGeneration inline, GenerateAsJob asJob, PublicUrls urls,
    TimeProvider clock, ILogger<GenerateImage> logger)
{
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
        return intake.Answer ?? await asJob.AnswerAsync(request, durable, intake.Submission!, intake.Prefer!, arrived, cancellationToken);
    }

    /// <summary>What taking a request in came to: its answer, or a job to answer for.</summary>
    public sealed record Intake(GenerateAnswer? Answer, Submission? Submission = null, PreferHeader? Prefer = null)
    {
        public static implicit operator Intake(GenerateAnswer answer) => new(answer);
        public static implicit operator Intake(JsonHttpResult<ErrorResponse> error) => new((GenerateAnswer)error);
    }

    /// <summary>Reads and checks the body, then runs the generation inline or schedules its job (or finds the key's job).</summary>
    async Task<Intake> TakeInAsync(HttpRequest request, DurableTaskClient durable, long arrived, CancellationToken cancellationToken)
    {
        var (read, error) = await requests.ReadAsync(request, cancellationToken);
        if (error is not null) return error;
        using var heldShare = read!.Share; // a large body's: until the intake ends (generated inline, or its job scheduled)
        var (input, idempotency) = (read.Input, read.Idempotency);
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        var prefer = PreferHeader.Of(request);

        // A repeat is answered before anything is planned or read again.
        if (idempotency is not null && await asJob.ReplayAsync(durable, idempotency, prefer, cancellationToken) is { } replay) return replay;

        var plan = await providers.PlanAsync(input.Model, input.ReferenceImage is not null || input.ReferenceFileId is not null, cancellationToken);
        if (plan.Count == 0)
            return KioaiErrors.BadRequest(GenerationErrors.TokenNotConfigured, $"No token is configured for the provider of '{input.Model}' or its " +
                "fallbacks (POST /api/config/token, /api/config/providers/{provider}/token) and the offline renderer is off (Generation:OfflineRenderer).");
        var (namedReference, referenceError, namedShare) = await requests.ReadReferenceFileAsync(input, cancellationToken);
        if (referenceError is not null) return referenceError;
        using var heldNamedShare = namedShare;

        // Inline: synchronous providers, and a client that waits (no respond-async, no key to replay, a wait bound above 0).
        if (idempotency is null && !prefer.RespondAsync && asJob.WaitBound(prefer) > 0 && InlineGeneration.CanRun(plan))
            return await RunInlineAsync(request, input, plan, input.ReferenceImage ?? namedReference, arrived, cancellationToken);
        return await asJob.SubmitAsync(request, durable, input, plan, idempotency, prefer, cancellationToken);
    }

    async Task<GenerateAnswer> RunInlineAsync(
        HttpRequest request, GenerateImageInput input, IReadOnlyList<PlannedModel> plan, byte[]? reference, long arrived, CancellationToken cancellationToken)
    {
        var generation = input.RequestOf(input.ReferenceFileId);
        try
        {
            return Succeeded(request, urls, generation, await inline.RunAsync(generation, plan, reference is null ? (ReadOnlyMemory<byte>?)null : reference,
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

    /// <summary>The image, on either path: generated inline, or by the job the request waited for.</summary>
    internal static Ok<GenerateImageResponse> Succeeded(HttpRequest request, PublicUrls urls, GenerationRequest r, JobResult result) =>
        TypedResults.Ok(new GenerateImageResponse(result.ImageId, urls.FileDownload(request, result.FileId), r.Prompt, r.Style,
            r.AspectRatio, r.Model, result.CreatedAt.UtcDateTime, result.ApiDebug));

    // In whole seconds (RFC 9110), rounded up so that a retry does not come early.
    internal static void SetRetryAfter(HttpRequest request, TimeSpan wait) =>
        request.HttpContext.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
