using Functions.Generation.Providers;
using Functions.Storage;
using DurableTask.AzureStorage;

namespace Functions.LocalHost;

/// <summary>
/// The engine's timings and hub name from the <c>DurableTask:*</c> settings; read when the host is built, so that a bad
/// value stops the start, naming the setting.
/// </summary>
public sealed record DurableTimings(string? HubName, TimeSpan MaxQueuePollingInterval, TimeSpan VisibilityTimeout, TimeSpan Lease)
{
    const string Section = "DurableTask";

    public static DurableTimings From(IConfiguration configuration)
    {
        var durable = configuration.GetSection(Section);
        var hub = string.IsNullOrWhiteSpace(durable["HubName"]) ? null : durable["HubName"]!.Trim();
        // The Durable extension's rule for a task hub's name: its tables, queues and containers are named after it.
        if (hub is not null && !(hub.Length is >= 3 and <= 45 && char.IsAsciiLetter(hub[0]) && hub.All(char.IsAsciiLetterOrDigit)))
            throw new InvalidOperationException($"{Section}:HubName must be 3 to 45 letters and digits, the first a letter.");
        return new DurableTimings(hub,
            // Idle polling backs off to this; the default 30 s would make a quiet local host slow to pick up work.
            Seconds(durable, "MaxQueuePollingIntervalSeconds", 1.0, min: 0.1, max: 600),
            // A work item held by a process that died reappears after this (DTFx's default is 5 minutes); a queue takes 1 s to 7 days.
            Seconds(durable, "VisibilityTimeoutSeconds", 15.0, min: 1, max: 7 * 86_400),
            // A partition held by a process that died is taken over after this (DTFx's default is 30 s).
            Seconds(durable, "LeaseSeconds", 15.0, min: 1, max: 600));
    }

    // A blank value is the default (Core Tools passes a setting left empty as empty); a value that is no number stops the start.
    static TimeSpan Seconds(IConfigurationSection section, string key, double fallback, double min, double max)
    {
        var value = string.IsNullOrWhiteSpace(section[key]) ? fallback : section.GetValue<double>(key);
        if (!(value >= min && value <= max)) throw new InvalidOperationException($"{Section}:{key} must be {min} to {max}.");
        return TimeSpan.FromSeconds(value);
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
