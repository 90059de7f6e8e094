using Functions.Hosting;
using Functions.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kiapi;

public static class GetJob
{
    /// <summary>The job: 202 with Retry-After while queued or running, 200 once it has ended, 404 unknown, 422 malformed id.</summary>
    public static async Task<Results<JsonHttpResult<KiapiJob>, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> Handle(
        string job_id, HttpRequest request, JobStore jobs, PublicUrls urls, CancellationToken cancellationToken)
    {
        if (!JobIds.IsJobId(job_id)) return KiapiErrors.InvalidPath("job_id", JobIds.Pattern, job_id);
        var job = await jobs.GetAsync(job_id, cancellationToken);
        if (job is null) return KiapiErrors.NotFound($"Job {job_id} not found");

        var ended = job.Status.IsTerminal();
        if (!ended) request.HttpContext.Response.Headers.RetryAfter = "2";
        return TypedResults.Json(job.ToKiapi(id => urls.FileDownload(request, id)), AppJsonContext.Api.KiapiJob,
            statusCode: ended ? StatusCodes.Status200OK : StatusCodes.Status202Accepted);
    }
}
