using System.Collections.Concurrent;
using Functions.Contracts.Kioai;
using Functions.Generation;
using Functions.Jobs;

namespace Functions.Tests.Jobs;

/// <summary>An activity call as the fake activities saw it: once when it starts and once (Returned) when it answers.</summary>
public sealed record StepCall(string Activity, string JobId, UpstreamCall? Call, bool Returned, DateTime At);

/// <summary>
/// One job's upstream, in place of the real activities (covered by the HTTP tests on Azurite): what Submit, Check and Store
/// answer, every call in order, and the timers the orchestrator asked for.
/// </summary>
public sealed class FakeSteps
{
    public string JobId { get; } = JobIds.New(DateTimeOffset.UtcNow, isPrivate: false);

    public Func<UpstreamCall, Task<UpstreamStep>> Submit { get; init; } = _ => throw new InvalidOperationException("Submit was not expected.");
    public Func<UpstreamCall, Task<UpstreamStep>> Check { get; init; } = _ => throw new InvalidOperationException("Check was not expected.");
    public Func<StoreCall, Task<UpstreamStep>> Store { get; init; } = _ => throw new InvalidOperationException("Store was not expected.");
    public Func<Task<bool>> Discard { get; init; } = () => Task.FromResult(true);

    public ConcurrentQueue<StepCall> Calls { get; } = new();

    /// <summary>Each timer the orchestrator asked for, as a delay on its own clock: the deadline first, then one per check.</summary>
    public ConcurrentQueue<TimeSpan> Timers { get; } = new();

    /// <summary>How much later than asked the deadline timer fires, as a loaded engine may fire it.</summary>
    public TimeSpan DeadlineLag { get; init; }

    /// <summary>Set when the orchestrator has seen its deadline timer fire.</summary>
    public TaskCompletionSource DeadlinePassed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set when the orchestrator has asked for its first timer after the deadline's: a wait between checks, or for a terminate.</summary>
    public TaskCompletionSource WaitingToCheck { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The activities called, in the order they started.</summary>
    public IReadOnlyList<string> Started => [.. Calls.Where(c => !c.Returned).Select(c => c.Activity)];

    /// <summary>Starts and returns in order, e.g. "StoreGeneration", "StoreGeneration returned".</summary>
    public IReadOnlyList<string> Timeline => [.. Calls.Select(c => c.Returned ? $"{c.Activity} returned" : c.Activity)];

    public IReadOnlyList<StepCall> CallsTo(string activity) => [.. Calls.Where(c => c.Activity == activity && !c.Returned)];

    internal async Task<T> RecordAsync<T>(string activity, string jobId, UpstreamCall? call, Func<Task<T>> answer)
    {
        Calls.Enqueue(new StepCall(activity, jobId, call, false, DateTime.UtcNow));
        var result = await answer();
        Calls.Enqueue(new StepCall(activity, jobId, call, true, DateTime.UtcNow));
        return result;
    }

    public static Task<UpstreamStep> Pending(string taskId, double? progress = null) =>
        Task.FromResult(new UpstreamStep(TaskId: taskId, Progress: progress));

    public static Task<UpstreamStep> Ready() =>
        Task.FromResult(new UpstreamStep(Ready: new ReadyImage("https://upstream.test/task/image.png", Debug("https://upstream.test/task"))));

    public static Task<UpstreamStep> Stored(string fileId) => Task.FromResult(StoredStep(fileId));

    public static UpstreamStep StoredStep(string fileId) => new(Stored: new JobResult(42, fileId, 1234, 8, 6, "image/png",
        DateTimeOffset.UnixEpoch, Debug($"https://upstream.test/{fileId}")));

    /// <summary>A Submit where "first-model" fails retryably with <paramref name="message"/> and any other model starts <paramref name="taskId"/>.</summary>
    public static Func<UpstreamCall, Task<UpstreamStep>> FirstModelFailsThenPending(string message, string taskId) => call => call.Model == "first-model"
        ? Failed(GenerationErrors.UpstreamError, message, retryable: true)
        : Pending(taskId);

    public static Task<UpstreamStep> Failed(string code, string message, bool retryable) =>
        Task.FromResult(new UpstreamStep(Failure: new StepFailure(code, message, retryable)));

    static ApiDebugInfo Debug(string url) => new(url, "POST", new Dictionary<string, string>(), [], 200, [], 1, false, null);
}
