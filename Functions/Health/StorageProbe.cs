using Azure;
using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.Health;

/// <summary>
/// Whether storage answers, accepts our credentials and still has our tables: one page of an empty partition. (A point
/// read of a missing row would not do: "if exists" reads a table that is gone as a row that is.)
/// </summary>
public sealed class StorageProbe([FromKeyedServices(StorageNames.SettingsTable)] TableClient settings, StorageBootstrap bootstrap)
{
    const string EmptyPartition = "PartitionKey eq 'health'";

    public bool IsReady => bootstrap.IsReady;

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        try
        {
            await foreach (var _ in settings.QueryAsync<TableEntity>(EmptyPartition, maxPerPage: 1, cancellationToken: cancellationToken).AsPages())
                break;
        }
        catch (RequestFailedException e) when (StorageFaults.IsLostResource(e))
        {
            bootstrap.Forget(); // made again by the next probe or request
            throw;
        }
    }
}
