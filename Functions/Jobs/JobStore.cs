using System.Collections.Concurrent;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>
/// Job rows in the jobs table. The instance that creates a job keeps the row it wrote (with its ETag) until a worker
/// takes it, which spares the worker a read; a stale copy only costs a 412 and a fresh read.
/// </summary>
public sealed class JobStore(TableStorage tables)
{
    readonly ConcurrentDictionary<string, JobRecord> _created = new();

    public async Task<JobRecord> CreateAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var entity = job.ToEntity();
        await tables.InsertAsync(StorageNames.JobsTable, entity, cancellationToken);
        var stored = job with { ETag = entity.ETag };
        _created[job.Id] = stored;
        return stored;
    }

    public async Task<JobRecord?> GetAsync(string jobId, CancellationToken cancellationToken)
    {
        var entity = await tables.GetAsync(StorageNames.JobsTable, jobId, JobRecord.RowKey, cancellationToken: cancellationToken);
        return entity is null ? null : JobRecord.FromEntity(entity);
    }

    /// <summary>The row as this instance created it, if it did and no worker has taken it yet; else a fresh read.</summary>
    public async Task<JobRecord?> GetForWorkAsync(string jobId, CancellationToken cancellationToken) =>
        _created.TryRemove(jobId, out var job) ? job : await GetAsync(jobId, cancellationToken);

    /// <summary>Writes a new state if nobody changed the job since it was read; a 412 <see cref="StorageException"/> otherwise.</summary>
    public async Task<JobRecord> ReplaceAsync(JobRecord job, CancellationToken cancellationToken)
    {
        var entity = job.ToEntity();
        await tables.ReplaceAsync(StorageNames.JobsTable, entity, job.ETag ?? "*", cancellationToken);
        return job with { ETag = entity.ETag };
    }

    /// <summary>Applies a change with the job's ETag; on a conflict re-reads and applies it again, unless the job has ended meanwhile.</summary>
    public async Task<JobRecord> UpdateAsync(JobRecord job, Func<JobRecord, JobRecord> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await ReplaceAsync(change(job), cancellationToken);
            }
            catch (StorageException e) when (e.IsPreconditionFailed && attempt < 5)
            {
                job = await GetAsync(job.Id, cancellationToken) ?? throw new InvalidOperationException($"Job {job.Id} vanished.");
                if (job.Status.IsTerminal()) return job;
            }
        }
    }

    public void Forget(string jobId) => _created.TryRemove(jobId, out _);
}
