using Functions.Contracts.Kiapi;
using Functions.Files;
using Functions.Generation;
using Functions.Storage;
using Grpc.Core;
using Microsoft.DurableTask.Client;

namespace Functions.Jobs;

/// <summary>The jobs API over the generation orchestrations: a job is an orchestration instance, its id the instance id.</summary>
public sealed class JobFunctions(PublicUrls urls, ImageKeeper keeper, EndedJobs ended, CancelRequests cancels, ListPositions positions,
    TimeProvider clock, ILogger<JobFunctions> logger)
{
    /// <summary>
    /// Jobs newest first, optionally only those in one status, a page at a time. Jobs of private generations are not
    /// listed (an anonymous caller never sees private work).
    /// </summary>
    [Function("ListJobs")]
    public async Task<Results<JsonHttpResult<KiapiList<KiapiJob>>, JsonHttpResult<KiapiValidationError>>> ListJobs(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.Jobs)] HttpRequest request,
        [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var (limit, token) = ListQuery.Of(request);
        if (ListQuery.Read(limit, token, out var pageSize) is { } invalid) return invalid;
        JobStatus? only = null;
        if (request.Query.TryGetValue("status", out var statusValues))
        {
            if (!JobStatusExtensions.TryParseWire(statusValues[^1], out var parsed))
                return KiapiErrors.Invalid("query", "status", "Input should be 'queued', 'running', 'succeeded', 'failed' or 'canceled'",
                    "enum", statusValues[^1]);
            only = parsed;
        }
        // A token pages the listing it came from: one of another status filter would resume that one's query (and skip
        // jobs). Sent without the status, it resumes its own listing, filter included.
        JobStatus?[] filters = only is { } asked ? [asked] : token is null ? [null] : [null, .. Enum.GetValues<JobStatus>().Cast<JobStatus?>()];
        var (list, position, valid) = ("", (string?)null, false);
        foreach (var filter in filters)
        {
            list = filter is { } status ? $"{ListQuery.Jobs}?status={status.ToWire()}" : ListQuery.Jobs;
            (valid, position) = await positions.OpenAsync(list, token, cancellationToken);
            if (valid) { only = filter; break; }
        }
        if (!valid) return ListQuery.InvalidToken(token!);
        var (page, next) = await durable.ListJobsAsync(cancels, only, position, pageSize, cancellationToken);
        return TypedResults.Json(new KiapiList<KiapiJob>([.. page.Select(job => job.ToKiapi(id => urls.FileDownload(request, id)))],
            next is not null, await positions.SealAsync(list, next, cancellationToken)), AppJsonContext.Api.KiapiListKiapiJob);
    }

    /// <summary>The job: 200 with it (Retry-After while it has not ended), 404 unknown, 422 malformed id.</summary>
    [Function("GetJob")]
    public async Task<Results<JsonHttpResult<KiapiJob>, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> GetJob(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = Routes.Job)] HttpRequest request, string job_id,
        [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        if (!JobIds.InPath.MayExist(job_id, out var malformed)) return malformed is null ? JobNotFound(job_id) : malformed;
        var job = await durable.GetJobAsync(job_id, cancels, cancellationToken);
        if (job is null) return JobNotFound(job_id);
        if (!job.Status.IsTerminal()) request.HttpContext.Response.Headers.RetryAfter = JobRecord.PollAfterSeconds;
        return TypedResults.Json(job.ToKiapi(id => urls.FileDownload(request, id)), AppJsonContext.Api.KiapiJob);
    }

    /// <summary>
    /// DELETE on a job that has not ended cancels it: its orchestration is stopped and nothing it made is kept; the
    /// canceled job stays readable, so whoever polls it learns why it ended. DELETE on an ended job forgets its record
    /// (purges the instance; its image stays in the history and the files). 404 unknown, 422 malformed id.
    /// </summary>
    [Function("DeleteJob")]
    public async Task<Results<JsonHttpResult<KiapiJobDeleted>, JsonHttpResult<KiapiError>, JsonHttpResult<KiapiValidationError>>> DeleteJob(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = Routes.Job)] HttpRequest request, string job_id,
        [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        if (!JobIds.InPath.MayExist(job_id, out var malformed)) return malformed is null ? JobNotFound(job_id) : malformed;
        var job = await durable.GetInstanceAsync(job_id, getInputsAndOutputs: true, cancellationToken);
        if (job is null || job.Name != GenerationOrchestrator.Name || await DurableJobs.IsForgottenAsync(job, cancels, CancellationToken.None))
            return JobNotFound(job_id);
        // Canceled counts as ended even while a start the engine held past the cancel runs it (until its Submit ends it again).
        if (job.IsCompleted || DurableJobs.WasCanceled(job))
            return await ended.ForgetAsync(durable, job, CancellationToken.None) ? Deleted(job_id, wasRunning: false) : DeletedByAnother(job_id);
        // Once asked, the cancel is carried through even if the client goes away.
        switch (await CancelAsync(job_id, durable))
        {
            case CancelOutcome.Stopped:
                await keeper.DiscardAsync(job_id, CancellationToken.None);
                await ended.DiscardReferenceAsync(job.ReadInputAs<GenerationJob>(), CancellationToken.None);
                logger.LogInformation("Job {JobId} canceled while {Status}", job_id, job.RuntimeStatus);
                return Deleted(job_id, wasRunning: job.RuntimeStatus != OrchestrationRuntimeStatus.Pending);
            case CancelOutcome.EndedFirst:
                // It ended before the cancel reached it, and stays as it ended: nothing was deleted. (Purging it now would
                // race the engine, which still has the terminate message to discard and would write the instance back.)
                logger.LogInformation("Job {JobId} ended before its cancel took effect; it stays as it ended", job_id);
                return Deleted(job_id, wasRunning: true, deleted: false);
            case CancelOutcome.Gone:
                await cancels.ForgetAsync(job_id, CancellationToken.None);
                return DeletedByAnother(job_id);
            default:
                // Another instance holds the job (or held it and died): the cancel lands when the engine moves it, and
                // a step running meanwhile may still store. Nothing is deleted yet; a DELETE once it has ended removes it all.
                logger.LogWarning("Job {JobId} was not stopped within the wait; the engine will stop it", job_id);
                return Deleted(job_id, wasRunning: job.RuntimeStatus != OrchestrationRuntimeStatus.Pending, deleted: false);
        }
    }

    /// <summary>
    /// Records the cancel before the engine is asked, so that a Submit it dispatches before it applies the terminate
    /// pays no upstream (<see cref="CancelRequests"/>); a terminate that could not be sent takes the record back.
    /// </summary>
    async Task<CancelOutcome> CancelAsync(string jobId, DurableTaskClient durable)
    {
        await cancels.RecordAsync(jobId, CancellationToken.None);
        try
        {
            await durable.TerminateJobAsync(jobId, CancellationToken.None);
        }
        // The Durable extension refuses to terminate an instance that has ended since it was read, or is gone (the local
        // host's sidecar takes both): the wait below reads which, as it does after a terminate that came too late.
        catch (RpcException e) when (e.StatusCode is StatusCode.FailedPrecondition or StatusCode.NotFound) { }
        catch
        {
            await cancels.ForgetAsync(jobId, CancellationToken.None);
            throw;
        }
        try
        {
            return await durable.WaitUntilStoppedAsync(jobId, clock, CancellationToken.None);
        }
        // The terminate was sent and the engine applies it: a 503 would say the cancel did not happen (a client would
        // send it again and find a canceled job). As after a wait that ran out, nothing is deleted yet.
        catch (Exception e) when (JobEngineFaults.IsFailure(e))
        {
            logger.LogWarning("Job {JobId}: its cancel was sent, but the engine stopped answering before it was seen applied ({Reason})", jobId, e.Message);
            return CancelOutcome.StillStopping;
        }
    }

    static JsonHttpResult<KiapiJobDeleted> Deleted(string jobId, bool wasRunning, bool deleted = true) =>
        TypedResults.Json(new KiapiJobDeleted(deleted, jobId, wasRunning), AppJsonContext.Api.KiapiJobDeleted);

    static JsonHttpResult<KiapiError> DeletedByAnother(string jobId) => KiapiErrors.NotFound($"Job {jobId} not found (another request deleted it)");

    /// <summary>404: no such job, or an id of the contract's shape longer than any the service makes.</summary>
    static JsonHttpResult<KiapiError> JobNotFound(string jobId) => KiapiErrors.NotFound($"Job {Echo.Quote(jobId)} not found");
}
