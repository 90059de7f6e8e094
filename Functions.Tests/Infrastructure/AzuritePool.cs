using System.Collections.Concurrent;
using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;

namespace Functions.Tests.Infrastructure;

/// <summary>
/// Emulators handed from one test class to the next, emptied in between. A new Azurite costs 2.2 s of CPU (node loading
/// its modules): started for each of the suite's 130 fixtures, that was a third of the suite's CPU on a 2-core machine.
/// </summary>
public static class AzuritePool
{
    /// <summary>As many as run at once (xunit.runner.json's four threads, and a class's second fixture); more are killed.</summary>
    const int MaxIdle = 6;

    static readonly ConcurrentBag<Azurite> Idle = [];

    // What the pool holds at the test run's end exits with the test host (Azurite.Start); not killed at ProcessExit,
    // where a whole-tree kill stops (SIGSTOP) each process before its SIGKILL: after such a run one was found stopped.

    /// <summary>An empty emulator of its own: one a finished fixture gave back, or a new one.</summary>
    public static async Task<Azurite> RentAsync()
    {
        while (Idle.TryTake(out var azurite))
        {
            if (!azurite.HasExited) return azurite;
            await azurite.DisposeAsync();
        }
        return await Azurite.StartAsync();
    }

    /// <summary>
    /// Gives an emulator back once nothing uses it (its apps stopped): emptied of every container, queue and table for
    /// the next fixture; killed when it died, cannot be emptied, or the pool is full.
    /// </summary>
    public static async Task ReturnAsync(Azurite? azurite)
    {
        if (azurite is null) return;
        if (!azurite.HasExited && Idle.Count < MaxIdle && await TryEmptyAsync(azurite.ConnectionString))
        {
            Idle.Add(azurite);
            return;
        }
        await azurite.DisposeAsync();
    }

    static async Task<bool> TryEmptyAsync(string connectionString)
    {
        var blobs = new BlobServiceClient(connectionString, Quick(new BlobClientOptions()));
        var queues = new QueueServiceClient(connectionString, Quick(new QueueClientOptions()));
        var tables = new TableServiceClient(connectionString, Quick(new TableClientOptions()));
        try
        {
            await foreach (var container in blobs.GetBlobContainersAsync())
            {
                // A leased container refuses the delete (the Durable backend leases one of its task hub's): the lease is broken first.
                if (container.Properties.LeaseState == LeaseState.Leased)
                    await blobs.GetBlobContainerClient(container.Name).GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
                await blobs.DeleteBlobContainerAsync(container.Name);
            }
            await foreach (var queue in queues.GetQueuesAsync()) await queues.DeleteQueueAsync(queue.Name);
            await foreach (var table in tables.QueryAsync()) await tables.DeleteTableAsync(table.Name);
            // Emptied only if nothing came back meanwhile (an app still writing would make the next fixture's storage not new).
            await foreach (var _ in blobs.GetBlobContainersAsync()) return false;
            await foreach (var _ in queues.GetQueuesAsync()) return false;
            await foreach (var _ in tables.QueryAsync()) return false;
            return true;
        }
        catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    // An emulator that does not answer at once is not worth keeping.
    static T Quick<T>(T options) where T : ClientOptions
    {
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
        return options;
    }
}
