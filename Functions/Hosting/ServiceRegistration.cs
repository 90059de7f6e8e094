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
        services.AddOptions<GenerationOptions>().BindConfiguration(GenerationOptions.Section)
            .Validate(o => o.SyncWaitSeconds >= 0 && o.SyncWaitSeconds <= GenerationOptions.MaxAnswerSeconds,
                $"Generation:SyncWaitSeconds must be 0 to {GenerationOptions.MaxAnswerSeconds} (Azure cuts responses at 230 s).")
            .Validate(o => o.DecodeBudgetMegapixels >= DecodeBudget.PermitsFor(ImageInspector.MaxPixels),
                $"Generation:DecodeBudgetMegapixels must be at least {DecodeBudget.PermitsFor(ImageInspector.MaxPixels)}: the largest image accepted must fit in it.")
            .Validate(o => o.DecodeWaitSeconds > 0 && o.DecodeWaitSeconds <= GenerationOptions.MaxAnswerSeconds,
                $"Generation:DecodeWaitSeconds must be above 0 and at most {GenerationOptions.MaxAnswerSeconds} (Azure cuts responses at 230 s).")
            .Validate(o => o.JobRetentionDays == 0 || o.JobRetentionDays is >= 1 and <= GenerationOptions.MaxJobRetentionDays,
                $"Generation:JobRetentionDays must be 0 (keep jobs until deleted) or 1 to {GenerationOptions.MaxJobRetentionDays} days: a shorter one would forget jobs their clients still poll.")
            .ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section)
            .Validate(o => o.AdminKey is not { Length: > 0 and < AuthOptions.MinAdminKeyLength },
                $"Auth:AdminKey must be at least {AuthOptions.MinAdminKeyLength} characters: it guards every upstream token, and wrong keys are not throttled.")
            .ValidateOnStart();
        services.AddOptions<ProviderOptions>().BindConfiguration(ProviderOptions.Section);
        services.AddOptions<UpstreamOptions>().BindConfiguration(UpstreamOptions.Section)
            .Validate(o => o.AttemptTimeoutSeconds > 0 && o.DeadlineSeconds > 0 && o.MaxImageBytes > 0 && o.MaxRetries >= 0,
                "Upstream: AttemptTimeoutSeconds, DeadlineSeconds and MaxImageBytes must be positive, MaxRetries 0 or more.")
            .Validate(o => o.PollMinSeconds >= 0 && o.PollMaxSeconds >= o.PollMinSeconds && o.PollMaxSeconds <= 600,
                "Upstream: PollMinSeconds must be 0 or more and at most PollMaxSeconds, which is at most 600.")
            .Validate(o => o.RetryBaseDelaySeconds >= 0 && o.MaxRetryDelaySeconds >= o.RetryBaseDelaySeconds && o.MaxRetryDelaySeconds <= 86_400,
                "Upstream: RetryBaseDelaySeconds must be 0 or more and at most MaxRetryDelaySeconds, which is at most a day.")
            .ValidateOnStart();
        // A misspelt key of an entry (TakesRefrence) stops the app too, rather than being ignored.
        services.AddOptions<Dictionary<string, ModelEntry>>()
            .BindConfiguration(ModelCatalog.Section, binder => binder.ErrorOnUnknownConfiguration = true).ValidateOnStart();
        services.AddSingleton<IValidateOptions<Dictionary<string, ModelEntry>>, ModelCatalog.Validation>();
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section)
            .Validate(o => o.IsValid, "Api:PublicBaseUrl must be an absolute http or https URL without a query or fragment, such as https://images.example.com.")
            .ValidateOnStart();

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJsonContext.Api);
            o.SerializerOptions.Encoder = AppJsonContext.Api.Options.Encoder;
        });

        services.AddSingleton(TimeProvider.System);
        services.AddAppStorage(configuration);

        services.AddSingleton<FileStore>();
        services.AddSingleton<ListPositions>();
        services.AddSingleton<ImageHistory>();
        services.AddSingleton<UpstreamTokens>();
        services.AddSingleton<AdminKey>();
        services.AddSingleton<IAdminKeyAnnouncer, ConsoleAdminKeyAnnouncer>();
        services.AddHostedService<AdminKey.Startup>();
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
        services.AddSingleton<ImageInspector>();
        services.AddSingleton<ImageKeeper>();
        services.AddSingleton<FileReferences>();
        services.AddSingleton<InlineGeneration>();
        services.AddSingleton<IdempotencyKeys>();
        services.AddSingleton<CancelRequests>();
        services.AddSingleton<EndedJobs>();
        services.AddSingleton<JobSubmitter>();
        services.AddSingleton<AdminOnly>();
        services.AddSingleton<StorageProbe>();
        services.AddSingleton<OrphanFiles>();
        return services;
    }
}
