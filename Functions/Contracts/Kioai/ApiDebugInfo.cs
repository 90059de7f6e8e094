using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Functions.Contracts.Kioai;

/// <summary>The upstream call behind an image, as the kioai contract's ApiDebugInfo; built only through <see cref="ApiDebugRedaction"/>.</summary>
public sealed record ApiDebugInfo(
    string RequestUrl,
    string RequestMethod,
    IReadOnlyDictionary<string, string> RequestHeaders,
    JsonObject RequestBody,
    int ResponseStatus,
    JsonObject ResponseBody,
    double DurationMs,
    bool UsedFallback,
    // A string in the kioai contract, never null: absent when nothing fell back.
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? FallbackReason);
