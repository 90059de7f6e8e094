using Azure;
using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>
/// The jobs a client asked to cancel: one row per job (partition = job id), written before the engine is asked to
/// terminate it. A terminate is a message the engine applies at the job's next step, so a Submit it dispatched
/// meanwhile would still pay the upstream; Submit reads this row before it calls one. The row lives as long as its job's record, and a day past a DELETE that
/// forgot a canceled job (marked forgotten), until the daily purge. It also holds when the cancel was accepted: the canceled job's end.
/// </summary>
public sealed class CancelRequests([FromKeyedServices(StorageNames.CancelsTable)] TableClient table, StorageBootstrap bootstrap, TimeProvider clock)
{
    const string RowKey = "cancel";

    /// <summary>Records the cancel, accepted now; a record already there (a concurrent DELETE's) keeps its own time, which reads may have shown.</summary>
    public async Task RecordAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await bootstrap.AgainIfLostAsync(() => table.AddEntityAsync(new CancelRow { PartitionKey = jobId, RowKey = RowKey, CanceledAt = clock.GetUtcNow() },
                cancellationToken), cancellationToken);
        }
        // Not a table still being deleted (409 too): then no record is kept, and a Submit would pay after the cancel.
        catch (RequestFailedException e) when (StorageFaults.IsAlreadyThere(e)) { }
    }

    /// <summary>The job's cancel record, or null when none was asked for (a lost table holds none: it is made again, empty).</summary>
    public async Task<CancelRow?> FindAsync(string jobId, CancellationToken cancellationToken) =>
        await bootstrap.AgainIfLostAsync(() => table.GetEntityIfExistsAsync<CancelRow>(jobId, RowKey, cancellationToken: cancellationToken),
            cancellationToken) is { HasValue: true } found ? found.Value : null;

    /// <summary>Whether the job's cancel was asked for.</summary>
    public async Task<bool> WasRequestedAsync(string jobId, CancellationToken cancellationToken) =>
        await FindAsync(jobId, cancellationToken) is not null;

    /// <summary>
    /// Marks a canceled job forgotten (a DELETE after its cancel): reads no longer show it, and its instance is purged by
    /// the daily purge, not now. DurableTask.AzureStorage may still hold the job's start, and runs it after a purge as a
    /// new job that no cancel stops; kept, the instance shows the start it was canceled, and this row keeps its Submit from the upstream.
    /// </summary>
    public Task MarkForgottenAsync(string jobId, CancellationToken cancellationToken) =>
        bootstrap.AgainIfLostAsync(() => table.UpsertEntityAsync(new CancelRow { PartitionKey = jobId, RowKey = RowKey, Forgotten = true },
            TableUpdateMode.Replace, cancellationToken), cancellationToken);

    /// <summary>Whether a DELETE forgot the canceled job (<see cref="MarkForgottenAsync"/>).</summary>
    public async Task<bool> WasForgottenAsync(string jobId, CancellationToken cancellationToken) =>
        await FindAsync(jobId, cancellationToken) is { Forgotten: true };

    public async Task ForgetAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(jobId, RowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status404NotFound) { } // never canceled, or its table lost
    }
}

/// <summary>
/// A job's cancel request as stored: partition = job id, row <c>cancel</c>; when it was accepted (null in a row written
/// before it was kept: the row's own timestamp is that time); and whether a DELETE has since forgotten the job.
/// </summary>
public sealed record CancelRow : TableRow
{
    public DateTimeOffset? CanceledAt { get; set; }

    public bool Forgotten { get; set; }

    /// <summary>When the cancel was accepted: the canceled job's finished_at.</summary>
    public DateTimeOffset? AcceptedAt() => CanceledAt ?? Timestamp;
}
