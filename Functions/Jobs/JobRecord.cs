using System.Text.Json;
using Azure.Data.Tables;
using Functions.Generation;
using Functions.Hosting;

namespace Functions.Jobs;

/// <summary>A job as stored: one row in the jobs table, keyed by its id, changed only with its ETag.</summary>
public sealed record JobRecord(
    string Id,
    JobStatus Status,
    GenerationRequest Request,
    DateTimeOffset CreatedAt,
    string ProgressLabel = "queued",
    double? Progress = null,
    JobResult? Result = null,
    string? Error = null,
    string? ErrorCode = null,
    DateTimeOffset? StartedAt = null,
    DateTimeOffset? FinishedAt = null,
    int Attempts = 0,
    UpstreamCheckpoint? Upstream = null,
    string? ETag = null)
{
    public const string Type = "image_generation";
    internal const string RowKey = "job";

    internal TableEntity ToEntity() => new(Id, RowKey)
    {
        ["Status"] = Status.ToWire(),
        ["ProgressLabel"] = ProgressLabel,
        ["Progress"] = Progress,
        ["Request"] = JsonSerializer.Serialize(Request, AppJsonContext.Default.GenerationRequest),
        ["Result"] = Result is null ? null : JsonSerializer.Serialize(Result, AppJsonContext.Default.JobResult),
        ["Error"] = Error,
        ["ErrorCode"] = ErrorCode,
        ["CreatedAt"] = CreatedAt,
        ["StartedAt"] = StartedAt,
        ["FinishedAt"] = FinishedAt,
        ["Attempts"] = Attempts,
        ["Upstream"] = Upstream is null ? null : JsonSerializer.Serialize(Upstream, AppJsonContext.Default.UpstreamCheckpoint),
    };

    internal static JobRecord FromEntity(TableEntity e) => new(
        e.PartitionKey,
        JobStatusExtensions.TryParseWire(e.GetString("Status"), out var status) ? status : JobStatus.Failed,
        JsonSerializer.Deserialize(e.GetString("Request") ?? "{}", AppJsonContext.Default.GenerationRequest)!,
        e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.UnixEpoch,
        e.GetString("ProgressLabel") ?? "queued",
        e.GetDouble("Progress"),
        e.GetString("Result") is { } result ? JsonSerializer.Deserialize(result, AppJsonContext.Default.JobResult) : null,
        e.GetString("Error"),
        e.GetString("ErrorCode"),
        e.GetDateTimeOffset("StartedAt"),
        e.GetDateTimeOffset("FinishedAt"),
        e.GetInt32("Attempts") ?? 0,
        e.GetString("Upstream") is { } upstream ? JsonSerializer.Deserialize(upstream, AppJsonContext.Default.UpstreamCheckpoint) : null,
        e.ETag.ToString());
}
