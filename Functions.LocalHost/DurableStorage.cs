using Functions.Generation.Providers;
using Functions.Storage;
using DurableTask.AzureStorage;

namespace Functions.LocalHost;

/// <summary>DurableTask.AzureStorage settings from AzureWebJobsStorage and host.json, tuned so that a restarted host resumes quickly.</summary>
public static class DurableStorage
{
    public static AzureStorageOrchestrationServiceSettings Settings(IConfiguration configuration, HostJson host)
    {
        var storage = StorageConnection.FromConfiguration(configuration);
        var durable = configuration.GetSection("DurableTask");
        return new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = durable["HubName"] ?? host.HubName,
            PartitionCount = host.PartitionCount,
            // The same connection the app's own storage uses: a connection string, or identity-based endpoints and credential.
            StorageAccountClientProvider = storage.ConnectionString is { } connection ? new StorageAccountClientProvider(connection)
                : new StorageAccountClientProvider(storage.BlobUri!, storage.QueueUri!, storage.TableUri!, storage.Credential!),
            // Idle polling backs off to this; the default 30 s would make a quiet local host slow to pick up work.
            MaxQueuePollingInterval = TimeSpan.FromSeconds(durable.GetValue("MaxQueuePollingIntervalSeconds", 1.0)),
            // A work item held by a process that died reappears after this (DTFx's default is 5 minutes).
            WorkItemQueueVisibilityTimeout = TimeSpan.FromSeconds(durable.GetValue("VisibilityTimeoutSeconds", 15.0)),
            ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(durable.GetValue("VisibilityTimeoutSeconds", 15.0)),
            // A partition held by a process that died is taken over after this (DTFx's default is 30 s).
            LeaseInterval = TimeSpan.FromSeconds(durable.GetValue("LeaseSeconds", 15.0)),
            LeaseRenewInterval = TimeSpan.FromSeconds(durable.GetValue("LeaseSeconds", 15.0) / 3),
            LeaseAcquireInterval = TimeSpan.FromSeconds(durable.GetValue("LeaseSeconds", 15.0) / 3),
            // With two instances, a step that stalled between writing its history and its status could otherwise write
            // "Running" over a job another instance had since finished (seen once in TwoInstanceTests under load).
            UseInstanceTableEtag = true,
            MaxConcurrentTaskActivityWorkItems = 16,
            MaxConcurrentTaskOrchestrationWorkItems = 16,
        };
    }

    /// <summary>
    /// The longest a step of a job can hold its work item: every step ends by the job's deadline (its upstream call is
    /// cut there), plus two attempts and a minute; a lock held longer is a lost activity's.
    /// </summary>
    public static TimeSpan LongestActivity(IConfiguration configuration)
    {
        var upstream = configuration.GetSection(UpstreamOptions.Section).Get<UpstreamOptions>() ?? new UpstreamOptions();
        return TimeSpan.FromSeconds(upstream.DeadlineSeconds + 2 * upstream.AttemptTimeoutSeconds + 60);
    }
}
