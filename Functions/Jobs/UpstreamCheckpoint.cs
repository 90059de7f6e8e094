namespace Functions.Jobs;

/// <summary>
/// How far a job has got upstream, saved with the job so that any instance resumes it: the model of the fallback
/// chain being tried, the upstream task once submitted (never submitted again), the number of the last scheduled
/// check (a check message with another number is a stale duplicate), the deadline, and why earlier models were left.
/// </summary>
public sealed record UpstreamCheckpoint(
    string Model,
    string Provider,
    string? TaskId = null,
    int Checks = 0,
    DateTimeOffset? DeadlineAt = null,
    string? FallbackReason = null);
