using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.Health;

/// <summary>Whether storage answers and accepts our credentials: one point read of a row that need not exist.</summary>
public sealed class StorageProbe([FromKeyedServices(StorageNames.SettingsTable)] TableClient settings, StorageBootstrap bootstrap)
{
    public bool IsReady => bootstrap.IsReady;

    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        await settings.GetEntityIfExistsAsync<TableEntity>("health", "probe", cancellationToken: cancellationToken);
    }
}
