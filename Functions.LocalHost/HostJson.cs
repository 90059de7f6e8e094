using System.Text.Json;

namespace Functions.LocalHost;

/// <summary>The settings of host.json the local host honours as the Functions host would: the route prefix and the Durable task hub.</summary>
public sealed record HostJson(string RoutePrefix, string HubName, int PartitionCount)
{
    public static HostJson Load(string? path = null)
    {
        path ??= Path.Combine(AppContext.BaseDirectory, "host.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var extensions = document.RootElement.TryGetProperty("extensions", out var e) ? e : default;
        var prefix = Find(extensions, "http", "routePrefix")?.GetString() ?? "api";
        var hub = Find(extensions, "durableTask", "hubName")?.GetString() ?? "TestHubName";
        var partitions = Find(extensions, "durableTask", "storageProvider") is { } provider && provider.TryGetProperty("partitionCount", out var count)
            ? count.GetInt32() : 4;
        return new HostJson(prefix.Trim('/'), hub, partitions);
    }

    static JsonElement? Find(JsonElement parent, string section, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(section, out var s) && s.ValueKind == JsonValueKind.Object
        && s.TryGetProperty(name, out var value) ? value : null;
}
