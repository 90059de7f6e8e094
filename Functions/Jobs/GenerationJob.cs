using System.Text.Json.Serialization;
using Functions.Contracts.Kioai;
using Functions.Generation;

namespace Functions.Jobs;

/// <summary>
/// An orchestrated generation's input, fixed when it is scheduled so that every replay sees the same values: the request,
/// the planned models (the requested one, then its fallbacks that had a token and take the reference, if any), the timings in force, and when it was
/// submitted (the created_at the 202 showed; the engine's own creation time is a little later), the hash of the
/// Idempotency-Key that made it, if any (deleting the job frees the key), and whether its reference file is its own
/// copy of an inline image (deleting the job removes it) rather than a file the client named.
/// </summary>
public sealed record GenerationJob(GenerationRequest Request, IReadOnlyList<string> Models, JobTimings Timings, DateTimeOffset? SubmittedAt = null,
    string? IdempotencyKeyHash = null, bool ReferenceIsCopy = false);

/// <summary>The deadline of the whole upstream work and the back-off between checks (Upstream:* settings).</summary>
public sealed record JobTimings(double DeadlineSeconds, double PollMinSeconds, double PollMaxSeconds)
{
    /// <summary>2 s, 3 s, 4.5 s ... up to the maximum, by default.</summary>
    public TimeSpan CheckDelay(int check) => TimeSpan.FromSeconds(Math.Min(PollMaxSeconds, PollMinSeconds * Math.Pow(1.5, check - 1)));

    /// <summary>How long a job whose Submit found its cancel waits for the cancel's terminate before it submits again: the longest pause between checks, at least 1 s.</summary>
    public TimeSpan CancelRecheckDelay() => TimeSpan.FromSeconds(Math.Max(1, PollMaxSeconds));
}

/// <summary>The orchestration's custom status: progress and its label, and once failed, why (the error code decides the status a client sees).</summary>
public sealed record JobProgress(string Label, double? Progress = null, DateTimeOffset? StartedAt = null, string? ErrorCode = null, string? Error = null)
{
    /// <summary>Whether this status says how the job failed: only the status a failed job ends with has a code.</summary>
    [JsonIgnore] public bool RecordsAFailure => ErrorCode is not null;
}

/// <summary>
/// An activity's input: which job, which model of its plan, the upstream task once submitted, why earlier models were
/// left; <see cref="AfterCancel"/>: a Submit sent again because the terminate of a cancel it found has not come.
/// </summary>
public sealed record UpstreamCall(string JobId, GenerationRequest Request, int ModelIndex, string Model, string? TaskId = null,
    string? FallbackReason = null, DateTime? Deadline = null, bool AfterCancel = false);

/// <summary>The Store activity's input: the call that made the image, and where the image is.</summary>
public sealed record StoreCall(UpstreamCall Call, ReadyImage Image);

/// <summary>A finished upstream task's image, still at the upstream, for the Store activity to fetch.</summary>
public sealed record ReadyImage(string Url, ApiDebugInfo Debug);

/// <summary>
/// What an upstream step gave: a task still running, an image to fetch, an image already stored, or a failure.
/// </summary>
public sealed record UpstreamStep(string? TaskId = null, double? Progress = null, ReadyImage? Ready = null, JobResult? Stored = null, StepFailure? Failure = null,
    string? CheckFailed = null);

/// <summary>
/// A generation failure as data, so the orchestrator decides (fallback or end) without exceptions crossing activities;
/// <paramref name="Advice"/>, for the client, is added to the message only when the job ends with it (not in a fallback's line).
/// </summary>
public sealed record StepFailure(string Code, string Message, bool Retryable, string? Advice = null)
{
    public static StepFailure Of(GenerationFailedException e) => new(e.Code, e.Message, e.Retryable);
}
