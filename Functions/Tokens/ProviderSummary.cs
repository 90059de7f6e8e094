using Functions.Generation;
using Functions.Generation.Providers;

namespace Functions.Tokens;

/// <summary>
/// Says at start which providers have a token in the settings and whether the offline renderer is on: without it, a
/// model whose provider has no token was drawn offline with nothing in the log to say why. Read from the settings
/// only, so that the start does not wait on storage; a token saved through the API is named on its save.
/// </summary>
sealed class ProviderSummary(IOptions<ProviderOptions> providers, IOptions<GenerationOptions> generation, ILogger<ProviderSummary> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var configured = UpstreamTokens.Providers.Where(p => UpstreamTokens.FromSettings(providers.Value, p) is not null).ToList();
        var missing = UpstreamTokens.Providers.Except(configured).ToList();
        logger.LogInformation("Provider tokens in the app settings: {Configured}; without one there: {Missing} (a token saved with POST /api/config/providers/{{provider}}/token is read from storage when first needed, and used instead). " +
            "Offline renderer: {Renderer}", configured.Count == 0 ? "none" : string.Join(", ", configured), missing.Count == 0 ? "none" : string.Join(", ", missing),
            generation.Value.OfflineRenderer ? "on, for the models whose provider has no token" : "off");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
