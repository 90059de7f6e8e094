using Azure.Data.Tables;
using Azure.Storage.Blobs;

namespace Functions.Storage;

/// <summary>
/// Creates the container and tables once per process, on first use rather than at startup; a failed attempt
/// (storage not up yet) is retried by the next caller rather than remembered, and so is one that storage later
/// lost (<see cref="Forget"/>).
/// </summary>
public sealed class StorageBootstrap(BlobServiceClient blobs, TableServiceClient tables)
{
    readonly SemaphoreSlim _gate = new(1, 1);
    volatile bool _ready;

    /// <summary>Whether this process has created (or found) every container and table.</summary>
    public bool IsReady => _ready;

    /// <summary>Storage has lost a container or table (<see cref="StorageFaults.IsLostResource"/>): the next caller creates them again.</summary>
    public void Forget() => _ready = false;

    /// <summary>
    /// Runs a storage call that must not fail for a container or table lost since this process made them (a write of an
    /// image already paid for, a cancel, or a read that decides whether to pay an upstream): makes them again and runs
    /// it once more.
    /// </summary>
    public async Task<T> AgainIfLostAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken);
        try
        {
            return await call();
        }
        catch (Exception e) when (StorageFaults.IsLostResource(e))
        {
            Forget();
            await EnsureCreatedAsync(cancellationToken);
            return await call();
        }
    }

    public async ValueTask EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        if (_ready) return;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_ready) return;
            await Task.WhenAll(
            [
                blobs.GetBlobContainerClient(StorageNames.FilesContainer).CreateIfNotExistsAsync(cancellationToken: cancellationToken),
                .. StorageNames.Tables.Select(table => tables.CreateTableIfNotExistsAsync(table, cancellationToken)),
            ]);
            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }
}
