using Azure.Core;
using Azure.Core.Pipeline;

namespace Functions.Storage;

/// <summary>
/// Builds one Azure.Core pipeline per storage service: retries, timeouts, auth, version, counting. The transport is
/// Azure.Core's HTTP client unless a test gives its own.
/// </summary>
public sealed class StoragePipelines(StorageAccount account, StorageRequestCounter counter, HttpPipelineTransport? transport = null)
{
    // Blob and Queue share the data-plane version; Table keeps its own OData versioning.
    const string BlobQueueVersion = "2024-11-04";
    const string TableVersion = "2019-02-02";
    const string TokenScope = "https://storage.azure.com/.default";

    public StorageAccount Account => account;

    public HttpPipeline Create(StorageService service)
    {
        var options = new StorageClientOptions();
        if (transport is not null) options.Transport = transport;
        options.Retry.MaxRetries = 3;
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(5);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        // Nothing in this app listens to Azure.Core's EventSource logs or activities; skipping them speeds every call.
        options.Diagnostics.IsTelemetryEnabled = false;
        options.Diagnostics.IsLoggingEnabled = false;
        options.Diagnostics.IsDistributedTracingEnabled = false;

        HttpPipelinePolicy auth = account.UsesSharedKey
            ? new SharedKeyPolicy(service, account.AccountName!, account.AccountKey!)
            : new BearerTokenAuthenticationPolicy(account.Credential!, TokenScope);

        var version = service == StorageService.Table ? TableVersion : BlobQueueVersion;
        return HttpPipelineBuilder.Build(options,
            perCallPolicies: [new StorageHeadersPolicy(version)],
            perRetryPolicies: [counter.Policy, auth],
            responseClassifier: new ResponseClassifier());
    }

    sealed class StorageClientOptions : ClientOptions;
}
