using Functions.Generation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Infrastructure;

/// <summary>The model catalog as shipped in Functions/appsettings.json, for tests that need one without the app.</summary>
public static class ShippedCatalog
{
    /// <summary>The shipped catalog with <paramref name="settings"/> laid over it, as settings of the app would be.</summary>
    public static ModelCatalog Load(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(RepositoryRoot.Path, "Functions", "appsettings.json"))
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value))).Build();
        var models = configuration.GetSection(ModelCatalog.Section).Get<Dictionary<string, ModelEntry>>()!;
        return new ModelCatalog(Options.Create(models));
    }
}
