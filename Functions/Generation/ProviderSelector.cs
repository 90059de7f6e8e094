using Functions.Tokens;

namespace Functions.Generation;

/// <summary>One model of a job's plan, with the provider that makes it and the token it goes with.</summary>
public sealed record PlannedModel(string Model, ModelEntry Entry, IImageProvider Provider, string Token);

/// <summary>
/// Plans who makes an image: the model and then its fallbacks, each kept only when its provider has a token (and, for a
/// request with a reference image, only when it takes one: a fallback must not quietly drop the reference); when none
/// has, the offline renderer if it is enabled; else nobody, and the request is refused with token_not_configured.
/// </summary>
public sealed class ProviderSelector(IEnumerable<IImageProvider> providers, UpstreamTokens tokens, ModelCatalog catalog, IOptions<GenerationOptions> options)
{
    readonly Dictionary<string, IImageProvider> _byName = providers.ToDictionary(p => p.Name, StringComparer.Ordinal);

    public async Task<IReadOnlyList<PlannedModel>> PlanAsync(string model, bool withReference, CancellationToken cancellationToken)
    {
        var plan = new List<PlannedModel>();
        foreach (var name in catalog.ChainOf(model))
        {
            if (catalog.Find(name) is not { } entry || !_byName.TryGetValue(entry.Provider, out var provider)) continue;
            if (withReference && !entry.TakesReference) continue;
            if (await tokens.GetAsync(entry.Provider, cancellationToken) is { } token) plan.Add(new PlannedModel(name, entry, provider, token));
        }
        if (plan.Count == 0 && options.Value.OfflineRenderer)
            plan.Add(new PlannedModel(model, catalog.Find(model) ?? new ModelEntry(), _byName[OfflineRenderer.ProviderName], ""));
        return plan;
    }
}
