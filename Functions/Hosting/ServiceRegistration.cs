using Functions.Files;
using Functions.Generation;
using Functions.Images;
using Functions.Jobs;
using Functions.Kioai;
using Functions.Settings;
using Functions.Storage;

namespace Functions.Hosting;

public static class ServiceRegistration
{
    public static WebApplicationBuilder AddApplicationServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<GenerationOptions>().BindConfiguration(GenerationOptions.Section)
            .Validate(o => o.SyncWaitSeconds is >= 0 and <= 220, "Generation:SyncWaitSeconds must be 0 to 220 (Azure cuts responses at 230 s).")
            .ValidateOnStart();
        services.AddOptions<WorkerOptions>().BindConfiguration(WorkerOptions.Section)
            .Validate(o => o.Concurrency is >= 1 and <= 64, "Worker:Concurrency must be 1 to 64.")
            .Validate(o => o.VisibilityTimeoutSeconds is >= 10 and <= 3600, "Worker:VisibilityTimeoutSeconds must be 10 to 3600.")
            .Validate(o => o.MaxDequeueCount >= 1, "Worker:MaxDequeueCount must be at least 1.")
            .ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section);
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section);

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJsonContext.Api);
            o.SerializerOptions.Encoder = AppJsonContext.Api.Options.Encoder;
        });
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = GenerateImageValidator.MaxBodyBytes + 1);

        services.AddSingleton(TimeProvider.System);
        services.AddStorage(builder.Configuration);

        services.AddSingleton<FileStore>();
        services.AddSingleton<ImageHistory>();
        services.AddSingleton<UpstreamTokens>();
        services.AddSingleton<AdminKey>();
        services.AddSingleton<IAdminKeyAnnouncer, ConsoleAdminKeyAnnouncer>();
        services.AddHostedService<AdminKey.Startup>();
        services.AddSingleton<PublicUrls>();

        services.AddSingleton<IImageProvider, OfflineRenderer>();
        services.AddSingleton<ProviderSelector>();

        services.AddSingleton<JobStore>();
        services.AddSingleton<JobQueue>();
        services.AddSingleton<JobCompletions>();
        services.AddSingleton<JobSubmitter>();
        services.AddSingleton<JobWorker>();
        services.AddHostedService<QueueListener>();
        return builder;
    }

    static void AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(_ => StorageAccount.FromConfiguration(configuration));
        services.AddSingleton<StorageRequestCounter>();
        services.AddSingleton<StoragePipelines>();
        services.AddSingleton<BlobStorage>();
        services.AddSingleton<TableStorage>();
        services.AddSingleton<QueueStorage>();
        services.AddSingleton<StorageBootstrap>();
    }
}
