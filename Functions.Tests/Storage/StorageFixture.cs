using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Functions.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Functions.Tests.Storage;

/// <summary>An Azurite of its own and the app's storage registration on it (the same clients, options and counter the app uses).</summary>
public sealed class StorageFixture : IAsyncLifetime
{
    Azurite? _azurite;
    ServiceProvider _services = null!;

    public StorageRequestCounter Counter => _services.GetRequiredService<StorageRequestCounter>();
    public StorageBootstrap Bootstrap => _services.GetRequiredService<StorageBootstrap>();
    public TableClient Table(string name) => _services.GetRequiredKeyedService<TableClient>(name);
    public BlobContainerClient Files => _services.GetRequiredKeyedService<BlobContainerClient>(StorageNames.FilesContainer);
    public string ConnectionString => _azurite!.ConnectionString;

    public async Task InitializeAsync()
    {
        _azurite = await AzuritePool.RentAsync();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new KeyValuePair<string, string?>(StorageConnection.SettingName, _azurite.ConnectionString)]).Build();
        _services = new ServiceCollection().AddLogging().AddAppStorage(configuration).BuildServiceProvider();
        await Bootstrap.EnsureCreatedAsync();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        if (_azurite is not null) await AzuritePool.ReturnAsync(_azurite);
    }
}

/// <summary>A clock a test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;
    public override DateTimeOffset GetUtcNow() => Now;
}
