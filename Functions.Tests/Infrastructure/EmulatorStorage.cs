using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;

namespace Functions.Tests.Infrastructure;

/// <summary>
/// An emulator's tables, queues and containers, through clients that do not retry (an emulator that does not answer at
/// once is not one to wait for): deleted all, or those of one prefix, such as a task hub's.
/// </summary>
public sealed class EmulatorStorage(string connectionString)
{
    readonly BlobServiceClient _blobs = new(connectionString, Quick(new BlobClientOptions()));
    readonly QueueServiceClient _queues = new(connectionString, Quick(new QueueClientOptions()));
    readonly TableServiceClient _tables = new(connectionString, Quick(new TableClientOptions()));

    /// <summary>Deletes every table, queue and container whose name begins with <paramref name="prefix"/> (every one by default).</summary>
    public async Task DeleteAllAsync(string prefix = "")
    {
        await foreach (var table in _tables.QueryAsync())
            if (table.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) await _tables.DeleteTableAsync(table.Name);
        await foreach (var queue in _queues.GetQueuesAsync(prefix: prefix)) await _queues.DeleteQueueAsync(queue.Name);
        await foreach (var container in _blobs.GetBlobContainersAsync(prefix: prefix))
        {
            // A leased container refuses the delete (the Durable backend leases one of its task hub's): the lease is broken first.
            if (container.Properties.LeaseState == LeaseState.Leased)
                await _blobs.GetBlobContainerClient(container.Name).GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
            await _blobs.DeleteBlobContainerAsync(container.Name);
        }
    }

    /// <summary>Whether there is no table, queue or container at all.</summary>
    public async Task<bool> IsEmptyAsync()
    {
        await foreach (var _ in _blobs.GetBlobContainersAsync()) return false;
        await foreach (var _ in _queues.GetQueuesAsync()) return false;
        await foreach (var _ in _tables.QueryAsync()) return false;
        return true;
    }

    static T Quick<T>(T options) where T : ClientOptions
    {
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
        return options;
    }
}
