using System.Text.Json.Nodes;

namespace Functions.Generation;

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
    string? FallbackReason);
