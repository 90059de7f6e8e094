using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Functions.Generation.Providers;

/// <summary>Reading an upstream's JSON answer, whose shape is the upstream's to change: a member of another type reads as absent.</summary>
public static class UpstreamJson
{
    /// <summary>A string member of a JSON object, whatever its nesting; null when absent or not a string.</summary>
    public static string? StringMember(JsonNode? node, string name) =>
        node is JsonObject obj && obj[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>A string member as its JSON value, to be read without a copy (<see cref="Hosting.JsonText.TryGetUnescapedUtf8"/>); null when absent or not a string.</summary>
    public static JsonValue? StringValueMember(JsonNode? node, string name) =>
        node is JsonObject obj && obj[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value : null;

    /// <summary>A finite number member, sent as a JSON number or as a string of one ("2"); null when absent or anything else.</summary>
    public static double? NumberMember(JsonNode? node, string name)
    {
        if (node is not JsonObject obj || obj[name] is not JsonValue value) return null;
        if (!value.TryGetValue<double>(out var number)
            && !(value.TryGetValue<string>(out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number)))
            return null;
        return double.IsFinite(number) ? number : null;
    }

    /// <summary>A whole-number member, read as <see cref="NumberMember"/> reads it; null when it is not a whole number.</summary>
    public static int? WholeNumberMember(JsonNode? node, string name) =>
        NumberMember(node, name) is { } number && number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue ? (int)number : null;

    /// <summary>The node's text when it is a JSON string: an error given as text rather than as an object.</summary>
    public static string? TextOf(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>A string member as sent, or a number member as its JSON text ("20015"); null when absent or anything else.</summary>
    public static string? CodeMember(JsonNode? node, string name) =>
        node is JsonObject obj && obj[name] is JsonValue value
            ? value.GetValueKind() switch
            {
                JsonValueKind.String => value.GetValue<string>(),
                JsonValueKind.Number => value.ToJsonString(),
                _ => null,
            }
            : null;
}
