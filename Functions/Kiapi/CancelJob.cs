using Azure;
using Functions.Generation;
using Functions.Hosting;
using Functions.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kiapi;

public static class CancelJob
{
    /// <summary>
    /// DELETE on a job that has not ended cancels it: a queued job never runs; a running one stops at its next step and
    /// keeps nothing it made. The canceled job stays readable, so whoever polls it learns why it ended. DELETE on an
    /// ended job forgets its record (its image stays in the history and the files). 404 unknown, 422 malformed id.
    /// </summary>
    public static async Task<Results<JsonHttpResult<KiapiJobDeleted>, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> Handle(
        string job_id, JobStore jobs, JobCompletions completions, TimeProvider clock, ILogger<KiapiJobDeleted> logger,
        CancellationToken cancellationToken)
    {
        if (!JobIds.IsJobId(job_id)) return KiapiErrors.InvalidPath("job_id", JobIds.Pattern, job_id);
        while (true)
        {
            var job = await jobs.GetAsync(job_id, cancellationToken);
            if (job is null) return KiapiErrors.NotFound($"Job {job_id} not found");
            try
            {
                if (job.Status.IsTerminal())
                {
                    if (await jobs.DeleteAsync(job, cancellationToken)) return Answer(job_id, wasRunning: false);
                    continue; // deleted meanwhile: the next read says 404
                }
                var canceled = await jobs.ReplaceAsync(job with
                {
                    Status = JobStatus.Canceled, ErrorCode = GenerationErrors.Canceled, Error = "Canceled by a DELETE request.",
                    FinishedAt = clock.GetUtcNow(), ProgressLabel = "canceled",
                }, cancellationToken);
                completions.Complete(canceled);
                logger.LogInformation("Job {JobId} canceled while {Status}", job_id, job.Status.ToWire());
                return Answer(job_id, wasRunning: job.Status == JobStatus.Running);
            }
            catch (RequestFailedException e) when (e.Status == StatusCodes.Status412PreconditionFailed)
            {
                // The worker moved the job meanwhile: look again.
            }
        }
    }

    static JsonHttpResult<KiapiJobDeleted> Answer(string jobId, bool wasRunning) =>
        TypedResults.Json(new KiapiJobDeleted(true, jobId, wasRunning), AppJsonContext.Api.KiapiJobDeleted);
}
