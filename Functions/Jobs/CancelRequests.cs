using Azure;
using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>
/// The jobs a client asked to cancel: one row per job (partition = job id), written before the engine is asked to
/// terminate it. A terminate is a message the engine applies at the job's next step, so a Submit it dispatched
/// meanwhile would still pay the upstream; Submit reads this row before it calls one. The row lives as long as its job's record.
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

    public async Task ForgetAsync(string jobId, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(jobId, RowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status404NotFound) { } // never canceled, or its table lost
    }
}

/// <summary>A job's cancel request as stored: partition = job id, row <c>cancel</c>.</summary>
public sealed record CancelRow : TableRow;
