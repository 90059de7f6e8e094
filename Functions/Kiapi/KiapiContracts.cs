using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Functions.Kiapi;

// The jobs-and-files schemas (specs/kiapi-common.openapi.json): snake_case, Unix-second timestamps.

public sealed record KiapiJob(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("params")] JsonObject Params,
    [property: JsonPropertyName("result")] JsonObject? Result,
    [property: JsonPropertyName("artifacts")] IReadOnlyList<string> Artifacts,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("created_at")] double CreatedAt,
    [property: JsonPropertyName("started_at")] double? StartedAt,
    [property: JsonPropertyName("finished_at")] double? FinishedAt,
    [property: JsonPropertyName("progress")] double? Progress,
    [property: JsonPropertyName("progress_label")] string ProgressLabel);

/// <summary>FastAPI's plain error body, used for 404.</summary>
public sealed record KiapiError([property: JsonPropertyName("detail")] string Detail);

public sealed record KiapiValidationIssue(
    [property: JsonPropertyName("loc")] IReadOnlyList<string> Loc,
    [property: JsonPropertyName("msg")] string Msg,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("input")] string? Input);

/// <summary>HTTPValidationError: the 422 body.</summary>
public sealed record KiapiValidationError([property: JsonPropertyName("detail")] IReadOnlyList<KiapiValidationIssue> Detail);
