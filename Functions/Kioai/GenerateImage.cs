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
    /// Validates, submits a job and waits for it up to the sync bound: 200 with the image when it ends in time,
    /// else 202 with Location and Retry-After pointing at the job.
    /// </summary>
    public static async Task<Results<Ok<GenerateImageResponse>, JsonHttpResult<KiapiJob>, JsonHttpResult<ErrorResponse>>> Handle(
        HttpRequest request, ModelCatalog catalog, ProviderSelector providers, FileStore files, JobSubmitter submitter, PublicUrls urls,
        IOptions<GenerationOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (document, failure) = await RequestBody.ReadJsonAsync(request, GenerateImageValidator.MaxBodyBytes, cancellationToken);
        if (failure is not null) return KioaiErrors.BadRequest(failure.Code, failure.Message);
        GenerateImageInput input;
        using (document)
        {
            var (validated, error) = GenerateImageValidator.Validate(document!.RootElement, catalog);
            if (error is not null) return KioaiErrors.BadRequest(error);
            input = validated!;
        }

        if ((await providers.PlanAsync(input.Model, cancellationToken)).Count == 0)
            return KioaiErrors.BadRequest(GenerationErrors.TokenNotConfigured, $"No token is configured for the provider of '{input.Model}' or its " +
                "fallbacks (POST /api/config/token, /api/config/providers/{provider}/token) and the offline renderer is off (Generation:OfflineRenderer).");

        string? referenceId = null;
        if (input.ReferenceImage is { } reference)
        {
            referenceId = "file_" + FileIds.NewHex(clock.GetUtcNow());
            await files.SaveAsync(referenceId, reference, input.ReferenceMime!, $"reference.{ImageFormats.ExtensionOf(input.ReferenceMime!)}",
                clock.GetUtcNow(), isPrivate: true, new Dictionary<string, string> { ["kind"] = "reference" }, cancellationToken);
        }

        var job = await submitter.SubmitAsync(new GenerationRequest(input.Prompt, input.Style, input.AspectRatio, input.Model,
            input.Resolution, input.IsPrivate, input.Seed, referenceId), willWait: true, cancellationToken);
        try
        {
            var ended = await submitter.WaitAsync(job.Id, TimeSpan.FromSeconds(options.Value.SyncWaitSeconds), cancellationToken);
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

    /// <summary>The async request-reply answer: 202, the job, where to poll it and how soon.</summary>
    public static JsonHttpResult<KiapiJob> Accepted(HttpRequest request, PublicUrls urls, JobRecord job)
    {
        request.HttpContext.Response.Headers.Location = urls.Job(request, job.Id);
        request.HttpContext.Response.Headers.RetryAfter = "2";
        return TypedResults.Json(job.ToKiapi(id => urls.FileDownload(request, id)), AppJsonContext.Api.KiapiJob,
            statusCode: StatusCodes.Status202Accepted);
    }
}
