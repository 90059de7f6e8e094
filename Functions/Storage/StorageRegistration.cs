using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Azure;

namespace Functions.Storage;

public static class StorageRegistration
{
    /// <summary>
    /// Registers the Blob and Table service clients once, from <c>AzureWebJobsStorage</c> (see
    /// <see cref="StorageConnection"/>), and each container and table the app uses as a singleton keyed by its
    /// name (<see cref="StorageNames"/>). Nothing is created at startup: <see cref="StorageBootstrap"/> does it on first use.
    /// </summary>
    public static IServiceCollection AddAppStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var connection = StorageConnection.FromConfiguration(configuration);
        services.AddSingleton<StorageRequestCounter>();
        services.AddSingleton<StorageBootstrap>();
        services.AddAzureClients(clients =>
        {
            if (connection.ConnectionString is { } connectionString)
            {
                clients.AddBlobServiceClient(connectionString);
                clients.AddTableServiceClient(connectionString);
            }
            else
            {
                clients.AddBlobServiceClient(connection.BlobUri!);
                clients.AddTableServiceClient(connection.TableUri!);
                clients.UseCredential(connection.Credential!);
            }
            clients.ConfigureDefaults((options, provider) => ConfigureClient(options, provider.GetRequiredService<StorageRequestCounter>()));
        });

        foreach (var table in StorageNames.Tables)
            services.AddKeyedSingleton(table, (provider, _) => provider.GetRequiredService<TableServiceClient>().GetTableClient(table));
        services.AddKeyedSingleton(StorageNames.FilesContainer,
            (provider, _) => provider.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(StorageNames.FilesContainer));
        return services;
    }

    // A storage fault should answer within seconds, not after the SDK's default minute of retries.
    static void ConfigureClient(ClientOptions options, StorageRequestCounter counter)
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(100);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
        // Nothing in this app listens to Azure.Core's EventSource logs or activities; skipping them speeds every call.
        options.Diagnostics.IsLoggingEnabled = false;
        options.Diagnostics.IsDistributedTracingEnabled = false;
        options.Diagnostics.IsTelemetryEnabled = false;
        options.AddPolicy(counter.Policy, HttpPipelinePosition.PerRetry);
    }
}
