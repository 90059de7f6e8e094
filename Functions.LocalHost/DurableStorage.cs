using Functions.Generation.Providers;
using Functions.Storage;
using DurableTask.AzureStorage;

namespace Functions.LocalHost;

/// <summary>The engine's timings and hub name from the <c>DurableTask:*</c> settings; read when the host is built, so that a bad value stops the start.</summary>
public sealed record DurableTimings(string? HubName, TimeSpan MaxQueuePollingInterval, TimeSpan VisibilityTimeout, TimeSpan Lease)
{
    public static DurableTimings From(IConfiguration configuration)
    {
        var durable = configuration.GetSection("DurableTask");
        return new DurableTimings(durable["HubName"],
            // Idle polling backs off to this; the default 30 s would make a quiet local host slow to pick up work.
            TimeSpan.FromSeconds(durable.GetValue("MaxQueuePollingIntervalSeconds", 1.0)),
            // A work item held by a process that died reappears after this (DTFx's default is 5 minutes).
            TimeSpan.FromSeconds(durable.GetValue("VisibilityTimeoutSeconds", 15.0)),
            // A partition held by a process that died is taken over after this (DTFx's default is 30 s).
            TimeSpan.FromSeconds(durable.GetValue("LeaseSeconds", 15.0)));
    }
}

/// <summary>
/// DurableTask.AzureStorage settings from AzureWebJobsStorage, host.json and the timings, tuned so that a restarted
/// host resumes quickly. Built when the sidecar starts, in the background: making them loads the engine's assemblies.
/// </summary>
public static class DurableStorage
{
    public static AzureStorageOrchestrationServiceSettings Settings(IConfiguration configuration, HostJson host, DurableTimings timings)
    {
        var storage = StorageConnection.FromConfiguration(configuration);
        var settings = new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = timings.HubName ?? host.HubName,
            PartitionCount = host.PartitionCount,
            // The same connection the app's own storage uses: a connection string, or identity-based endpoints and credential.
            StorageAccountClientProvider = storage.ConnectionString is { } connection ? new StorageAccountClientProvider(connection)
                : new StorageAccountClientProvider(storage.BlobUri!, storage.QueueUri!, storage.TableUri!, storage.Credential!),
            MaxQueuePollingInterval = timings.MaxQueuePollingInterval,
            WorkItemQueueVisibilityTimeout = timings.VisibilityTimeout,
            ControlQueueVisibilityTimeout = timings.VisibilityTimeout,
            LeaseInterval = timings.Lease,
            LeaseRenewInterval = timings.Lease / 3,
            LeaseAcquireInterval = timings.Lease / 3,
            // host.json turns it on for both hosts: see DESIGN.md, "The two hosts".
            UseInstanceTableEtag = host.UseInstanceTableEtag,
        };
        // host.json's maxConcurrentActivityFunctions and maxConcurrentOrchestratorFunctions, as the Durable extension reads them.
        if (host.MaxConcurrentActivities is { } activities) settings.MaxConcurrentTaskActivityWorkItems = activities;
        if (host.MaxConcurrentOrchestrations is { } orchestrations) settings.MaxConcurrentTaskOrchestrationWorkItems = orchestrations;
        return settings;
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
