using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>
/// Job rows in the jobs table. The instance that creates a job keeps the row it wrote (with its ETag) until a worker
/// takes it, which spares the worker a read; a stale copy only costs a 412 and a fresh read.
/// </summary>
public sealed class JobStore([FromKeyedServices(StorageNames.JobsTable)] TableClient table)
{
    readonly ConcurrentDictionary<string, JobRecord> _created = new();

    public async Task<JobRecord> CreateAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var added = await table.AddEntityAsync(job.ToEntity(), cancellationToken);
        var stored = job with { ETag = added.Headers.ETag?.ToString() };
        _created[job.Id] = stored;
        return stored;
    }

    public async Task<JobRecord?> GetAsync(string jobId, CancellationToken cancellationToken)
    {
        var entity = await table.GetEntityIfExistsAsync<TableEntity>(jobId, JobRecord.RowKey, cancellationToken: cancellationToken);
        return entity.HasValue ? JobRecord.FromEntity(entity.Value!) : null;
    }

    /// <summary>The row as this instance created it, if it did and no worker has taken it yet; else a fresh read.</summary>
    public async Task<JobRecord?> GetForWorkAsync(string jobId, CancellationToken cancellationToken) =>
        _created.TryRemove(jobId, out var job) ? job : await GetAsync(jobId, cancellationToken);

    /// <summary>Writes a new state if nobody changed the job since it was read; a 412 <see cref="RequestFailedException"/> otherwise.</summary>
    public async Task<JobRecord> ReplaceAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var replaced = await table.UpdateEntityAsync(job.ToEntity(), job.ETag is null ? ETag.All : new ETag(job.ETag), TableUpdateMode.Replace,
            cancellationToken);
        return job with { ETag = replaced.Headers.ETag?.ToString() };
    }

    /// <summary>
    /// Applies a change with the job's ETag; on a conflict re-reads and applies it again, unless the job has ended
    /// meanwhile (then the ended job is returned unchanged). Null when the job was deleted meanwhile.
    /// </summary>
    public async Task<JobRecord?> UpdateAsync(JobRecord job, Func<JobRecord, JobRecord> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await ReplaceAsync(change(job), cancellationToken);
            }
            catch (RequestFailedException e) when (e.Status is StatusCodes.Status412PreconditionFailed or StatusCodes.Status404NotFound && attempt < 5)
            {
                var current = await GetAsync(job.Id, cancellationToken);
                if (current is null || current.Status.IsTerminal()) return current;
                job = current;
            }
        }
    }

    /// <summary>Removes an ended job's row, if nobody changed it since it was read; a 412 <see cref="RequestFailedException"/> otherwise.</summary>
    public async Task<bool> DeleteAsync(JobRecord job, CancellationToken cancellationToken) =>
        (await table.DeleteEntityAsync(job.Id, JobRecord.RowKey, job.ETag is null ? ETag.All : new ETag(job.ETag), cancellationToken)).Status
        != StatusCodes.Status404NotFound;

    /// <summary>
    /// Up to <paramref name="limit"/> jobs newest first (job ids sort that way), after the job id <paramref name="after"/>,
    /// only those in <paramref name="status"/> when given and only those <paramref name="visible"/> lets through;
    /// one more than the limit is read to tell whether a next page exists.
    /// </summary>
    public async Task<(IReadOnlyList<JobRecord> Jobs, bool HasMore)> ListAsync(JobStatus? status, string? after, int limit,
        Func<JobRecord, bool> visible, CancellationToken cancellationToken)
    {
        var conditions = new List<string>();
        if (after is not null) conditions.Add(TableClient.CreateQueryFilter($"PartitionKey gt {after}"));
        if (status is { } s) conditions.Add(TableClient.CreateQueryFilter($"Status eq {s.ToWire()}"));
        var filter = conditions.Count == 0 ? null : string.Join(" and ", conditions);

        var found = new List<JobRecord>();
        string? token = null;
        do
        {
            var page = await table.PageAsync<TableEntity>(filter, limit + 1 - found.Count, token, null, cancellationToken);
            found.AddRange(page.Rows.Select(JobRecord.FromEntity).Where(visible));
            token = page.ContinuationToken;
        } while (token is not null && found.Count <= limit);
        return (found.Take(limit).ToList(), found.Count > limit);
    }

    /// <summary>Jobs created before <paramref name="createdBefore"/> that have not ended: the ones past their deadline.</summary>
    public async Task<IReadOnlyList<JobRecord>> ListUnfinishedAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"(Status eq {JobStatus.Queued.ToWire()} or Status eq {JobStatus.Running.ToWire()}) and CreatedAt lt {createdBefore}");
        var found = new List<JobRecord>();
        string? token = null;
        do
        {
            var page = await table.PageAsync<TableEntity>(filter, 1000, token, null, cancellationToken);
            found.AddRange(page.Rows.Select(JobRecord.FromEntity));
            token = page.ContinuationToken;
        } while (token is not null);
        return found;
    }

    public void Forget(string jobId) => _created.TryRemove(jobId, out _);
}
