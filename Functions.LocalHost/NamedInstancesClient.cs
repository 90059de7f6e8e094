using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Query;

namespace Functions.LocalHost;

/// <summary>
/// The engine's client as the sidecar's gRPC server sees it, with one repair: an instance row without a name, tags or
/// creation time (the engine writes only status and output to a row whose start it never recorded, such as one purged
/// while a step of it still ran) is answered with an empty name, no tags and a UTC time. The server would throw on it (a
/// protobuf string or map is never null, a timestamp is UTC), and one such row made every jobs list, and the daily purge, fail. The app reads
/// it as no job of its own (404, not listed).
/// </summary>
sealed class NamedInstancesClient(AzureStorageOrchestrationService inner)
    : IOrchestrationServiceClient, IOrchestrationServiceQueryClient, IOrchestrationServicePurgeClient
{
    static OrchestrationState Named(OrchestrationState state)
    {
        state.Name ??= "";
        state.Tags ??= new Dictionary<string, string>();
        // Nor its creation time: the server converts the missing value (DateTime.MinValue, of no kind) to a timestamp, which must be UTC.
        state.CreatedTime = DateTime.SpecifyKind(state.CreatedTime, DateTimeKind.Utc);
        state.LastUpdatedTime = DateTime.SpecifyKind(state.LastUpdatedTime, DateTimeKind.Utc);
        return state;
    }

    public async Task<OrchestrationState> GetOrchestrationStateAsync(string instanceId, string executionId) =>
        await inner.GetOrchestrationStateAsync(instanceId, executionId) is { } state ? Named(state) : null!;

    public async Task<IList<OrchestrationState>> GetOrchestrationStateAsync(string instanceId, bool allExecutions) =>
        [.. (await inner.GetOrchestrationStateAsync(instanceId, allExecutions)).Select(Named)];

    public async Task<OrchestrationQueryResult> GetOrchestrationWithQueryAsync(OrchestrationQuery query, CancellationToken cancellationToken)
    {
        var result = await inner.GetOrchestrationWithQueryAsync(query, cancellationToken);
        foreach (var state in result.OrchestrationState) Named(state);
        return result;
    }

    public async Task<OrchestrationState> WaitForOrchestrationAsync(string instanceId, string executionId, TimeSpan timeout,
        CancellationToken cancellationToken) =>
        await inner.WaitForOrchestrationAsync(instanceId, executionId, timeout, cancellationToken) is { } state ? Named(state) : null!;

    public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage) => inner.CreateTaskOrchestrationAsync(creationMessage);
    public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage, OrchestrationStatus[] dedupeStatuses) =>
        inner.CreateTaskOrchestrationAsync(creationMessage, dedupeStatuses);
    public Task SendTaskOrchestrationMessageAsync(TaskMessage message) => inner.SendTaskOrchestrationMessageAsync(message);
    public Task SendTaskOrchestrationMessageBatchAsync(params TaskMessage[] messages) => inner.SendTaskOrchestrationMessageBatchAsync(messages);
    public Task ForceTerminateTaskOrchestrationAsync(string instanceId, string reason) => inner.ForceTerminateTaskOrchestrationAsync(instanceId, reason);
    public Task<string> GetOrchestrationHistoryAsync(string instanceId, string executionId) => inner.GetOrchestrationHistoryAsync(instanceId, executionId);
    public Task PurgeOrchestrationHistoryAsync(DateTime thresholdDateTimeUtc, OrchestrationStateTimeRangeFilterType timeRangeFilterType) =>
        inner.PurgeOrchestrationHistoryAsync(thresholdDateTimeUtc, timeRangeFilterType);
    public Task<PurgeResult> PurgeInstanceStateAsync(string instanceId) => ((IOrchestrationServicePurgeClient)inner).PurgeInstanceStateAsync(instanceId);
    public Task<PurgeResult> PurgeInstanceStateAsync(PurgeInstanceFilter purgeInstanceFilter) =>
        ((IOrchestrationServicePurgeClient)inner).PurgeInstanceStateAsync(purgeInstanceFilter);
}
