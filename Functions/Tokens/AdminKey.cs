using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Functions.Storage;

namespace Functions.Tokens;

/// <summary>
/// Checks the admin key. The key is the setting Auth:AdminKey; with none set and local generation on, the first start
/// makes one, keeps only its SHA-256 in the settings table, and prints the key once.
/// </summary>
public sealed class AdminKey(IOptions<AuthOptions> options, [FromKeyedServices(StorageNames.SettingsTable)] TableClient settingsTable, StorageBootstrap bootstrap,
    IAdminKeyAnnouncer announcer)
{
    const string Partition = "admin";
    const string Row = "key";
    readonly SemaphoreSlim _gate = new(1, 1);
    byte[]? _storedHash;

    public bool IsConfigured => options.Value.HasAdminKey;

    public async Task<bool> IsValidAsync(string? presented, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(presented)) return false;
        var presentedHash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        if (IsConfigured)
            return CryptographicOperations.FixedTimeEquals(presentedHash, SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.AdminKey!)));
        var stored = await LoadOrCreateAsync(cancellationToken);
        return stored is not null && CryptographicOperations.FixedTimeEquals(presentedHash, stored);
    }

    /// <summary>Makes sure a local key exists when one should be generated; the startup service calls it, so the key prints early.</summary>
    public async Task<byte[]?> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        if (IsConfigured || !options.Value.GenerateLocalAdminKey) return null;
        if (_storedHash is not null) return _storedHash;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_storedHash is not null) return _storedHash;
            await bootstrap.EnsureCreatedAsync(cancellationToken);
            if (await ReadHashAsync(cancellationToken) is { } stored) return _storedHash = stored;

            var key = "adm_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            try
            {
                // Not cut off by a stop or a client that goes: an insert that lands unseen keeps a key nobody was shown.
                await settingsTable.AddEntityAsync(new AdminKeyRow { PartitionKey = Partition, RowKey = Row, Sha256 = Convert.ToHexStringLower(hash) },
                    CancellationToken.None);
            }
            catch (RequestFailedException e) when (StorageFaults.IsAlreadyThere(e))
            {
                // Another instance made one first; or this insert landed on an attempt whose answer was lost, and the
                // client's retry met it: then the key is this one's, to be shown.
                var winner = await ReadHashAsync(CancellationToken.None);
                if (winner is null || !CryptographicOperations.FixedTimeEquals(winner, hash)) return _storedHash = winner;
            }
            announcer.Announce(key);
            return _storedHash = hash;
        }
        finally
        {
            _gate.Release();
        }
    }

    async Task<byte[]?> ReadHashAsync(CancellationToken cancellationToken)
    {
        var row = await settingsTable.GetEntityIfExistsAsync<AdminKeyRow>(Partition, Row, cancellationToken: cancellationToken);
        return row.HasValue && row.Value!.Sha256 is { } hex ? Convert.FromHexString(hex) : null;
    }

    /// <summary>Generates the local key at startup, in the background, and warns when admin operations are locked.</summary>
    internal sealed class Startup(IServiceProvider services, IOptions<AuthOptions> options, ILogger<Startup> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            if (options.Value.HasAdminKey) return; // a set key needs no storage
            if (!options.Value.GenerateLocalAdminKey)
            {
                logger.LogWarning("No admin key is set (Auth:AdminKey): token and key management answer 401 until one is.");
                return;
            }
            await Task.Yield(); // off the cold-start path: the storage stack is built after the server listens
            try { await services.GetRequiredService<AdminKey>().LoadOrCreateAsync(stoppingToken); }
            // Cut short by a stop: nothing to warn of. Not only an OperationCanceledException: a retry the stop cut reaches
            // here as Azure.Core's AggregateException, which, thrown on, would fault the service (exit code 1).
            catch (Exception) when (stoppingToken.IsCancellationRequested) { }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Storage not answering yet is an outage's one line, as for a request; anything else keeps its stack.
                if (StorageFaults.IsOutage(e))
                    logger.LogWarning("Could not prepare the local admin key yet ({Reason}); the first admin request will try again.", FaultText.Of(e));
                else logger.LogWarning(e, "Could not prepare the local admin key yet; the first admin request will try again.");
            }
        }
    }
}

/// <summary>A generated admin key, kept only as its SHA-256: row <c>admin/key</c> of the settings table.</summary>
public sealed record AdminKeyRow : TableRow
{
    public string? Sha256 { get; set; }
}

/// <summary>Where a generated admin key is shown, once: the console, not the app's log pipeline (a key is generated only where Auth:GenerateLocalAdminKey is on, by default in Development).</summary>
public interface IAdminKeyAnnouncer
{
    void Announce(string key);
}

sealed class ConsoleAdminKeyAnnouncer : IAdminKeyAnnouncer
{
    public void Announce(string key) => Console.Out.WriteLine(
        $"\n  Admin key generated for this local store (shown once, keep it): {key}\n  Send it as the X-Admin-Key header to /api/config/*.\n");
}
