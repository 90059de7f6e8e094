using System.Collections.Concurrent;
using Functions.Storage;

namespace Functions.Settings;

/// <summary>
/// Upstream tokens, one row per provider in the settings table. Reads are cached briefly, so that a generate does not
/// pay a storage read; a change made here shows at once, one made on another instance within <see cref="CacheFor"/>.
/// </summary>
public sealed class UpstreamTokens(TableStorage tables, StorageBootstrap bootstrap, TimeProvider clock)
{
    const string Partition = "tokens";
    static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    readonly ConcurrentDictionary<string, (string? Token, DateTimeOffset ReadAt)> _cache = new();

    public async Task<string?> GetAsync(string provider, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(provider, out var cached) && clock.GetUtcNow() - cached.ReadAt < CacheFor) return cached.Token;
        var row = await tables.GetAsync(StorageNames.SettingsTable, Partition, provider, cancellationToken: cancellationToken);
        var token = row?.GetString("Value");
        _cache[provider] = (token, clock.GetUtcNow());
        return token;
    }

    public async Task SetAsync(string provider, string token, CancellationToken cancellationToken)
    {
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        await tables.UpsertAsync(StorageNames.SettingsTable,
            new TableEntity(Partition, provider) { ["Value"] = token, ["UpdatedAt"] = clock.GetUtcNow() }, cancellationToken);
        _cache[provider] = (token, clock.GetUtcNow());
    }

    /// <summary>Removes the token; false when none was set.</summary>
    public async Task<bool> DeleteAsync(string provider, CancellationToken cancellationToken)
    {
        await bootstrap.EnsureCreatedAsync(cancellationToken);
        var deleted = await tables.DeleteAsync(StorageNames.SettingsTable, Partition, provider, cancellationToken: cancellationToken);
        _cache[provider] = (null, clock.GetUtcNow());
        return deleted;
    }
}
