using System.Text.RegularExpressions;
using Functions.LocalHost;
using Functions.Storage;
using Functions.Tests.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Functions.Tests.Host;

/// <summary>
/// The Durable sidecar on its own, on a real Azurite: its start runs in the background and is tried again while storage
/// refuses it, and its stop ends the start under way rather than wait for storage to let it in.
/// </summary>
public sealed class DurableSidecarTests(StorageFixture storage) : IClassFixture<StorageFixture>
{
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    readonly SidecarReadiness _ready = new();
    readonly FakeLogger<DurableSidecar> _log = new();

    DurableSidecar Sidecar(string connection)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([
            new(StorageConnection.SettingName, connection), new("DurableTask:HubName", $"Sidecar{Guid.NewGuid():N}"[..20])]).Build();
        return new DurableSidecar(configuration, new HostJson("api", "Hub", 1), DurableTimings.From(configuration), new SidecarEndpoint(), _ready, _log);
    }

    [Fact]
    public async Task A_stop_while_storage_refuses_the_start_ends_its_retries()
    {
        // A key storage refuses at once (403, not retried by the storage clients): each try fails fast.
        await using var sidecar = Sidecar(Regex.Replace(storage.ConnectionString, "AccountKey=[^;]+", "AccountKey=a2V5"));
        await sidecar.StartAsync(default);
        await Eventually.HoldsAsync(() => Task.FromResult(_log.Collector.GetSnapshot().Any(r => r.Level == LogLevel.Warning)), Bound); // a failed try

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await sidecar.StopAsync(CancellationToken.None).WaitAsync(Bound);

        // The retries end with the stop, well before the ListenAddress.ShutdownBound the stop would wait for a start that ignored it.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the stop took {clock.Elapsed}");
        Assert.False(_ready.WhenStarted.IsCompleted);
    }
}
