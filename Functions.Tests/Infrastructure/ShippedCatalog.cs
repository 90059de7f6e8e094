using Functions.Generation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Functions.Tests.Infrastructure;

/// <summary>The model catalog as shipped in Functions/appsettings.json, for tests that need one without the app.</summary>
public static class ShippedCatalog
{
    public static ModelCatalog Load()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(RepositoryRoot.Path, "Functions", "appsettings.json")).Build();
        var models = configuration.GetSection(ModelCatalog.Section).Get<Dictionary<string, ModelEntry>>()!;
        return new ModelCatalog(Options.Create(models));
    }
}
