using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Functions.Contracts.Kiapi;

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
    [property: JsonPropertyName("progress_label")] string ProgressLabel)
{
    /// <summary>The Durable Functions name for the job's URL, carried by 202 answers so Durable-style clients can poll.</summary>
    [JsonPropertyName("statusQueryGetUri")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? StatusQueryGetUri { get; init; }
}

/// <summary>FastAPI's plain error body: every kiapi error that is not a 422 validation error (400, 401, 404, 408, 409, 412, 413, 415, 416, 500, 503).</summary>
public sealed record KiapiError([property: JsonPropertyName("detail")] string Detail);

public sealed record KiapiValidationIssue(
    [property: JsonPropertyName("loc")] IReadOnlyList<string> Loc,
    [property: JsonPropertyName("msg")] string Msg,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("input")] string? Input);

/// <summary>HTTPValidationError: the 422 body.</summary>
public sealed record KiapiValidationError([property: JsonPropertyName("detail")] IReadOnlyList<KiapiValidationIssue> Detail);

/// <summary>A list page (JobListResponse, FileListResponse): OpenAI's envelope, with has_more and the token that fetches the next page (null on the last).</summary>
public sealed record KiapiList<T>(
    [property: JsonPropertyName("data")] IReadOnlyList<T> Data,
    [property: JsonPropertyName("has_more")] bool HasMore,
    [property: JsonPropertyName("continuation_token")] string? ContinuationToken)
{
    [JsonPropertyName("object")]
    [JsonPropertyOrder(-1)]
    public string Object => "list";
}

public sealed record KiapiJobDeleted(
    [property: JsonPropertyName("deleted")] bool Deleted,
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("was_running")] bool WasRunning);

/// <summary>FileRecord: a stored file's metadata.</summary>
public sealed record KiapiFile(
    [property: JsonPropertyName("file_id")] string FileId,
    [property: JsonPropertyName("filename")] string Filename,
    [property: JsonPropertyName("content_type")] string ContentType,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("created_at")] double CreatedAt,
    [property: JsonPropertyName("meta")] JsonObject Meta);

public sealed record KiapiFileDeleted(
    [property: JsonPropertyName("deleted")] bool Deleted,
    [property: JsonPropertyName("file_id")] string FileId);

public sealed record KiapiMemory(
    [property: JsonPropertyName("loaded")] IReadOnlyList<JsonObject> Loaded,
    [property: JsonPropertyName("resident_gb")] double ResidentGb,
    [property: JsonPropertyName("budget_gb")] double BudgetGb);

/// <summary>HealthResponse, plus whether storage answered (this service's one dependency).</summary>
public sealed record KiapiHealth(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("warm")] bool Warm,
    [property: JsonPropertyName("queue_len")] long QueueLength,
    [property: JsonPropertyName("storage")] string Storage,
    [property: JsonPropertyName("memory")] KiapiMemory Memory);
