using System.Text.Json;
using DurableTask.Core.Exceptions;

namespace Functions.Jobs;

/// <summary>
/// A job failed by the job engine rather than by one of its steps (whose failure, code and reason, is in the job's
/// custom status). The usual cause is a deployment that changed the orchestrator's steps while the job ran: its replay
/// on the new code no longer matches its history (DESIGN.md, "Deploying while jobs run").
/// </summary>
public static class EngineFailures
{
    public const string StepsChangedMessage = "The job could not resume after the service was updated while it ran (the update " +
        "changed its steps); send the request again, under a new Idempotency-Key if it had one.";

    // DurableTask.Core's NonDeterministicOrchestrationException's message has this (a host may put words before it); a store that keeps only the failure's text has it.
    const string StepsChangedText = "Non-Deterministic workflow detected";

    /// <summary>Whether the failure (its exception type, or only its text where that is all the store kept) is a replay that no longer matches the code.</summary>
    public static bool StepsChanged(string? errorType, string? text) =>
        errorType == typeof(NonDeterministicOrchestrationException).FullName || text?.Contains(StepsChangedText, StringComparison.Ordinal) == true;

    /// <summary>Whether a failed job's serialized custom status holds the failure of one of its steps (<see cref="JobProgress.ErrorCode"/>).</summary>
    public static bool FailedInAStep(string? serializedStatus)
    {
        if (string.IsNullOrEmpty(serializedStatus)) return false;
        try { return JsonSerializer.Deserialize<JobProgress>(serializedStatus)?.RecordsAFailure == true; }
        catch (JsonException) { return false; }
    }
}
