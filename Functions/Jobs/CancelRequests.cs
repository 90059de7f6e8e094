using Azure;
using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>
/// The jobs a client asked to cancel: one row per job (partition = job id), written before the engine is asked to
/// terminate it. A terminate is a message the engine applies at the job's next step, so a Submit it dispatched
/// meanwhile would still pay the upstream; Submit reads this row before it calls one. The row lives as long as its job's record, and a day past a DELETE that
/// forgot a canceled job (marked forgotten), until the daily purge.
/// </summary>
public sealed class CancelRequests([FromKeyedServices(StorageNames.CancelsTable)] TableClient table, StorageBootstrap bootstrap)
{
    const string RowKey = "cancel";

    public Task RecordAsync(string jobId, CancellationToken cancellationToken) =>
        bootstrap.AgainIfLostAsync(() => table.UpsertEntityAsync(new CancelRow { PartitionKey = jobId, RowKey = RowKey },
            TableUpdateMode.Replace, cancellationToken), cancellationToken);

    /// <summary>Whether the job's cancel was asked for (a lost table holds no request: it is made again, empty).</summary>
    public async Task<bool> WasRequestedAsync(string jobId, CancellationToken cancellationToken) =>
        (await bootstrap.AgainIfLostAsync(() => table.GetEntityIfExistsAsync<CancelRow>(jobId, RowKey, cancellationToken: cancellationToken),
            cancellationToken)).HasValue;

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
        (await bootstrap.AgainIfLostAsync(() => table.GetEntityIfExistsAsync<CancelRow>(jobId, RowKey, cancellationToken: cancellationToken),
            cancellationToken)) is { HasValue: true, Value.Forgotten: true };

    public async Task ForgetAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(jobId, RowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status404NotFound) { } // never canceled, or its table lost
    }
}

/// <summary>A job's cancel request as stored: partition = job id, row <c>cancel</c>; and whether a DELETE has since forgotten the job.</summary>
public sealed record CancelRow : TableRow
{
    public bool Forgotten { get; set; }
}
