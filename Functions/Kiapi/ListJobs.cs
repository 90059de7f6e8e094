using Functions.Hosting;
using Functions.Jobs;
using Functions.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Functions.Kiapi;

public static class ListJobs
{
    /// <summary>
    /// Jobs newest first, optionally only those in one status, a page at a time; the continuation token is the last
    /// job id of the page. Jobs of private generations are not listed (an anonymous caller never sees private work).
    /// </summary>
    public static async Task<Results<JsonHttpResult<KiapiList<KiapiJob>>, JsonHttpResult<KiapiValidationError>>> Handle(
        string? status, string? limit, string? continuation_token, HttpRequest request, JobStore jobs, PublicUrls urls, StorageBootstrap bootstrap,
        CancellationToken cancellationToken)
    {
        if (ListQuery.Read(limit, continuation_token, out var pageSize) is { } invalid) return invalid;
        JobStatus? only = null;
        if (status is not null)
        {
            if (!JobStatusExtensions.TryParseWire(status, out var parsed))
                return KiapiErrors.Invalid("query", "status", "Input should be 'queued', 'running', 'succeeded', 'failed' or 'canceled'",
                    "enum", status);
            only = parsed;
        }
        if (continuation_token is not null && !JobIds.IsJobId(continuation_token))
            return KiapiErrors.Invalid("query", "continuation_token", "Input should be the continuation_token of a previous page",
                "invalid_token", continuation_token);

        await bootstrap.EnsureCreatedAsync(cancellationToken);
        var (page, hasMore) = await jobs.ListAsync(only, continuation_token, pageSize, job => !job.Request.IsPrivate, cancellationToken);
        return TypedResults.Json(new KiapiList<KiapiJob>([.. page.Select(job => job.ToKiapi(id => urls.FileDownload(request, id)))],
            hasMore, hasMore ? page[^1].Id : null), AppJsonContext.Api.KiapiListKiapiJob);
    }
}
