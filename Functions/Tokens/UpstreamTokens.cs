using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Functions.Generation.Providers;
using Functions.Storage;

namespace Functions.Tokens;

/// <summary>
/// Upstream tokens, one row per provider in the settings table; a token saved here wins over one in app settings
/// (<c>Providers:{Name}:Token</c>), which serves when none is saved. Reads are cached briefly, so that a generate does
/// not pay a storage read; a change made here shows at once, one made on another instance within <see cref="CacheFor"/>.
/// A change, confirmed or not, empties the provider's cache rather than filling it: concurrent changes are confirmed in
/// any order, and one that failed may have landed, so only storage knows which token is saved.
/// </summary>
public sealed class UpstreamTokens([FromKeyedServices(StorageNames.SettingsTable)] TableClient settingsTable, StorageBootstrap bootstrap, IOptions<ProviderOptions> settings, TimeProvider clock)
{
    /// <summary>The providers that take a token, as they appear in /api/config/providers/{provider}/token.</summary>
    public static readonly IReadOnlyList<string> Providers = [GeminigenProvider.ProviderName, SiliconFlowProvider.ProviderName, OpenAiCompatibleProvider.ProviderName];

    /// <summary>The provider's name as listed, whatever its case in the path (as the route's own words); unknown names as given.</summary>
    public static string NameOf(string provider) => Providers.FirstOrDefault(p => p.Equals(provider, StringComparison.OrdinalIgnoreCase)) ?? provider;

    const string Partition = "tokens";
    static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    readonly ConcurrentDictionary<string, (string? Token, DateTimeOffset ReadAt)> _cache = new();
    // Saves and deletes made here, counted: a read that overlapped one may have read the token before it, and must not
    // put that back in the cache over the change.
    readonly Lock _changing = new();
    long _changes;

    public async Task<string?> GetAsync(string provider, CancellationToken cancellationToken) =>
        await GetSavedAsync(provider, cancellationToken) ?? FromSettings(settings.Value, provider);

    async Task<string?> GetSavedAsync(string provider, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(provider, out var cached) && clock.GetUtcNow() - cached.ReadAt < CacheFor) return cached.Token;
        var changesBefore = Interlocked.Read(ref _changes);
        var row = await settingsTable.GetEntityIfExistsAsync<TokenRow>(Partition, provider, cancellationToken: cancellationToken);
        var token = row.HasValue ? row.Value!.Value : null;
        lock (_changing)
            if (_changes == changesBefore) _cache[provider] = (token, clock.GetUtcNow());
        return token;
    }

    /// <summary>The provider's token in the settings (Providers:{name}:Token), if any; a saved one comes first.</summary>
    public static string? FromSettings(ProviderOptions settings, string provider) => (provider switch
    {
        GeminigenProvider.ProviderName => settings.Geminigen.Token,
        SiliconFlowProvider.ProviderName => settings.SiliconFlow.Token,
        OpenAiCompatibleProvider.ProviderName => settings.OpenAI.Token,
        _ => null,
    })?.Trim() is { Length: > 0 } token ? token : null; // a setting of spaces is none, as a saved token is never blank

    public async Task SetAsync(string provider, string token, CancellationToken cancellationToken)
    {
        try
        {
            await bootstrap.EnsureCreatedAsync(cancellationToken);
            await settingsTable.UpsertEntityAsync(new TokenRow { PartitionKey = Partition, RowKey = provider, Value = token, UpdatedAt = clock.GetUtcNow() },
                TableUpdateMode.Replace, cancellationToken);
        }
        finally
        {
            Changed(provider);
        }
    }

    /// <summary>Removes the token; false when none was saved.</summary>
    public async Task<bool> DeleteAsync(string provider, CancellationToken cancellationToken)
    {
        try
        {
            await bootstrap.EnsureCreatedAsync(cancellationToken);
            // Read first: the delete's own 404 also comes when the storage client's retry follows a try that landed.
            var saved = await settingsTable.GetEntityIfExistsAsync<TokenRow>(Partition, provider, select: ["RowKey"], cancellationToken: cancellationToken);
            if (!saved.HasValue) return false;
            await settingsTable.DeleteEntityAsync(Partition, provider, ETag.All, cancellationToken);
            return true;
        }
        finally
        {
            Changed(provider);
        }
    }

    void Changed(string provider)
    {
        lock (_changing)
        {
            _changes++;
            _cache.TryRemove(provider, out _);
        }
    }
}

/// <summary>A saved upstream token: partition <c>tokens</c>, one row per provider.</summary>
public sealed record TokenRow : TableRow
{
    public string? Value { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
