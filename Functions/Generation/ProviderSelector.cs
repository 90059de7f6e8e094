using Functions.Hosting;
using Functions.Settings;
using Microsoft.Extensions.Options;

namespace Functions.Generation;

/// <summary>
/// Picks who makes an image: the model's upstream provider when its token is configured and the provider is available,
/// else the offline renderer when it is enabled; else nobody, and the request is refused with token_not_configured.
/// </summary>
public sealed class ProviderSelector(IEnumerable<IImageProvider> providers, UpstreamTokens tokens, IOptions<GenerationOptions> options)
{
    readonly Dictionary<string, IImageProvider> _byName = providers.ToDictionary(p => p.Name, StringComparer.Ordinal);

    public async Task<IImageProvider?> SelectAsync(string model, CancellationToken cancellationToken)
    {
        var upstream = ModelCatalog.ProviderOf(model);
        if (_byName.TryGetValue(upstream, out var provider) && await tokens.GetAsync(upstream, cancellationToken) is not null)
            return provider;
        return options.Value.OfflineRenderer ? _byName[OfflineRenderer.ProviderName] : null;
    }
}
