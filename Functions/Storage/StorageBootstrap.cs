namespace Functions.Storage;

/// <summary>
/// Creates the containers, tables and queues once per process, on first use; a failed attempt (storage not up yet)
/// is retried by the next caller rather than remembered.
/// </summary>
public sealed class StorageBootstrap(BlobStorage blobs, TableStorage tables, QueueStorage queues)
{
    readonly SemaphoreSlim _gate = new(1, 1);
    volatile bool _ready;

    /// <summary>Whether this process has created (or found) every container, table and queue.</summary>
    public bool IsReady => _ready;

    public async ValueTask EnsureCreatedAsync(CancellationToken cancellationToken = default)
    {
        if (_ready) return;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_ready) return;
            await Task.WhenAll(
                blobs.CreateContainerIfNotExistsAsync(StorageNames.FilesContainer, cancellationToken),
                tables.CreateTableIfNotExistsAsync(StorageNames.HistoryTable, cancellationToken),
                tables.CreateTableIfNotExistsAsync(StorageNames.JobsTable, cancellationToken),
                tables.CreateTableIfNotExistsAsync(StorageNames.SettingsTable, cancellationToken),
                tables.CreateTableIfNotExistsAsync(StorageNames.IdempotencyTable, cancellationToken),
                queues.CreateQueueIfNotExistsAsync(StorageNames.JobsQueue, cancellationToken),
                queues.CreateQueueIfNotExistsAsync(StorageNames.JobsPoisonQueue, cancellationToken));
            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }
}
