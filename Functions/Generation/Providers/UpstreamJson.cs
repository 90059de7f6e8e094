using System.Text.Json.Nodes;

namespace Functions.Generation.Providers;

/// <summary>Reading an upstream's JSON answer, whose shape is the upstream's to change: a member of another type reads as absent.</summary>
public static class UpstreamJson
{
    /// <summary>A string member of a JSON object, whatever its nesting; null when absent or not a string.</summary>
    public static string? StringMember(JsonNode? node, string name) =>
        node is JsonObject obj && obj[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
