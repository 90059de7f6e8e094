using Functions.Storage;
using Functions.Tests.Infrastructure;

namespace Functions.Tests.Storage;

public sealed class StorageFixture : IAsyncLifetime
{
    Azurite? _azurite;
    public StorageRequestCounter Counter { get; } = new();
    public BlobStorage Blobs { get; private set; } = null!;
    public TableStorage Tables { get; private set; } = null!;
    public QueueStorage Queues { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();
        var pipelines = new StoragePipelines(StorageAccount.FromConnectionString(_azurite.ConnectionString), Counter);
        Blobs = new BlobStorage(pipelines);
        Tables = new TableStorage(pipelines);
        Queues = new QueueStorage(pipelines);
    }

    public async Task DisposeAsync()
    {
        if (_azurite is not null) await _azurite.DisposeAsync();
    }
}
