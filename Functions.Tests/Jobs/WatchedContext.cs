using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;

namespace Functions.Tests.Jobs;

/// <summary>
/// The engine's orchestration context passed through unchanged (but for a deadline lag a test asks for), noting each timer the orchestrator asks for (as a delay
/// on the orchestration's clock) and when the first one, the deadline, fires, so tests read these instead of racing the wall clock.
/// </summary>
sealed class WatchedContext(TaskOrchestrationContext inner, FakeSteps steps) : TaskOrchestrationContext
{
    int timers;

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        var isDeadline = timers++ == 0;
        if (!inner.IsReplaying)
        {
            steps.Timers.Enqueue(fireAt - inner.CurrentUtcDateTime);
            if (!isDeadline) steps.WaitingToCheck.TrySetResult();
        }
        var timer = inner.CreateTimer(isDeadline ? fireAt + steps.DeadlineLag : fireAt, cancellationToken);
        if (isDeadline)
            timer.ContinueWith(t => { if (t.IsCompletedSuccessfully) steps.DeadlinePassed.TrySetResult(); },
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return timer;
    }

    public override TaskName Name => inner.Name;
    public override string InstanceId => inner.InstanceId;
    public override ParentOrchestrationInstance? Parent => inner.Parent;
    public override DateTime CurrentUtcDateTime => inner.CurrentUtcDateTime;
    public override bool IsReplaying => inner.IsReplaying;
    public override TaskOrchestrationEntityFeature Entities => inner.Entities;
    protected override ILoggerFactory LoggerFactory => inner.ReplaySafeLoggerFactory;
    public override T? GetInput<T>() where T : default => inner.GetInput<T>();

    public override Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null) =>
        inner.CallActivityAsync<TResult>(name, input, options);

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default) =>
        inner.WaitForExternalEvent<T>(eventName, cancellationToken);

    public override void SendEvent(string instanceId, string eventName, object payload) => inner.SendEvent(instanceId, eventName, payload);
    public override void SetCustomStatus(object? customStatus) => inner.SetCustomStatus(customStatus);

    public override Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, object? input = null, TaskOptions? options = null) =>
        inner.CallSubOrchestratorAsync<TResult>(orchestratorName, input, options);

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        inner.ContinueAsNew(newInput, preserveUnprocessedEvents);

    public override Guid NewGuid() => inner.NewGuid();
}
