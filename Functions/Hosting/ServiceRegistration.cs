using Functions.Files;
using Functions.Generation.Providers;
using Functions.Generation;
using Functions.Health;
using Functions.History;
using Functions.Jobs;
using Functions.Maintenance;
using Functions.Storage;
using Functions.Tokens;

namespace Functions.Hosting;

public static class ServiceRegistration
{
    /// <summary>The app's one composition root: the Functions worker and the local host both call it.</summary>
    public static IServiceCollection AddImageService(this IServiceCollection services, IConfiguration configuration)
    {
        GenerationOptions.AddTo(services);
        AuthOptions.AddTo(services);
        ProviderOptions.AddTo(services);
        UpstreamOptions.AddTo(services);
        services.AddOptions<Dictionary<string, ModelEntry>>().BindConfiguration(ModelCatalog.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Dictionary<string, ModelEntry>>, ModelCatalog.Validation>();
        ApiOptions.AddTo(services);

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJsonContext.Api);
            o.SerializerOptions.Encoder = AppJsonContext.Api.Options.Encoder;
        });

        services.AddSingleton(TimeProvider.System);
        services.AddKeyedSingleton(nameof(TemporaryFiles), (provider, _) => new LogWindow(provider.GetRequiredService<TimeProvider>(), TimeSpan.FromMinutes(1)));
        services.AddAppStorage(configuration);

        services.AddSingleton<FileStore>();
        services.AddSingleton<ListPositions>();
        services.AddSingleton<ImageHistory>();
        services.AddSingleton<UpstreamTokens>();
        services.AddSingleton<AdminKey>();
        services.AddSingleton<IAdminKeyAnnouncer, ConsoleAdminKeyAnnouncer>();
        services.AddHostedService<AdminKey.Startup>();
        services.AddHostedService<ProviderSummary>();
        services.AddHostedService<StaleUploadBuffers>();
        services.AddSingleton<PublicUrls>();

        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<IImageProvider, OfflineRenderer>();
        services.AddSingleton<IImageProvider, GeminigenProvider>();
        services.AddSingleton<IImageProvider, SiliconFlowProvider>();
        services.AddSingleton<IImageProvider, OpenAiCompatibleProvider>();
        services.AddSingleton<ProviderSelector>();
        services.AddSingleton<UpstreamImages>();
        services.AddSingleton<UpstreamHttp>();

        services.AddSingleton<DecodeBudget>();
        services.AddSingleton<UploadBudget>();
        services.AddSingleton<ImageInspector>();
        services.AddSingleton<ImageKeeper>();
        services.AddSingleton<FileReferences>();
        services.AddSingleton<InlineGeneration>();
        services.AddSingleton<IdempotencyKeys>();
        services.AddSingleton<CancelRequests>();
        services.AddSingleton<SubmitClaims>();
        services.AddSingleton<EndedJobs>();
        services.AddSingleton<JobSubmitter>();
        services.AddSingleton<GenerateRequestReader>();
        services.AddSingleton<GenerateAsJob>();
        services.AddSingleton<AdminOnly>();
        services.AddSingleton<StorageProbe>();
        services.AddSingleton<OrphanFiles>();
        return services;
    }
}
