using System.Text.Json;

namespace Functions.LocalHost;

/// <summary>
/// The settings of host.json the local host honours as the Functions host would: the route prefix, the Durable task
/// hub, whether the hub's status rows are written under their ETag (DTFx's <c>UseInstanceTableEtag</c>, see DESIGN.md),
/// and how many activities and orchestrations a process runs at once (null when unset: the engine's own default).
/// Not its <c>maxQueuePollingInterval</c> (for Azure): the local host polls per <c>DurableTask:MaxQueuePollingIntervalSeconds</c>.
/// </summary>
public sealed record HostJson(string RoutePrefix, string HubName, int PartitionCount, bool UseInstanceTableEtag = false,
    int? MaxConcurrentActivities = null, int? MaxConcurrentOrchestrations = null)
{
    public static HostJson Load(string? path = null)
    {
        path ??= Path.Combine(AppContext.BaseDirectory, "host.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var extensions = document.RootElement.TryGetProperty("extensions", out var e) ? e : default;
        var prefix = Find(extensions, "http", "routePrefix")?.GetString() ?? "api";
        var hub = Find(extensions, "durableTask", "hubName")?.GetString() ?? "TestHubName";
        var provider = Find(extensions, "durableTask", "storageProvider");
        var partitions = provider is { } p && p.TryGetProperty("partitionCount", out var count) ? count.GetInt32() : 4;
        var instanceEtags = provider is { } q && q.TryGetProperty("useInstanceTableEtag", out var etags) && etags.ValueKind == JsonValueKind.True;
        var activities = Find(extensions, "durableTask", "maxConcurrentActivityFunctions")?.GetInt32();
        var orchestrations = Find(extensions, "durableTask", "maxConcurrentOrchestratorFunctions")?.GetInt32();
        return new HostJson(prefix.Trim('/'), hub, partitions, instanceEtags, activities, orchestrations);
    }

    static JsonElement? Find(JsonElement parent, string section, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(section, out var s) && s.ValueKind == JsonValueKind.Object
        && s.TryGetProperty(name, out var value) ? value : null;
}
