using DurableTask.Core;
using DurableTask.Core.History;
using Functions.Hosting;
using Functions.Jobs;

namespace Functions.LocalHost;

/// <summary>
/// The Durable engine as the sidecar's dispatchers see it, with seven things they lack. A start and a stop that are safe
/// at any time: the sidecar starts and stops the engine from async void handlers, where an exception ends the process.
/// So a start that fails (storage gone between the task hub's creation and the worker's connection) is tried again
/// until it succeeds or the stop comes, and a start that comes after the stop (the sidecar starts the engine once a
/// worker connects, or once its wait for one is cut short by the stop) does nothing. AzureStorageOrchestrationService.StopAsync
/// throws when it was never started, and when its partition manager has not stopped after 10 minutes (storage gone);
/// so the stop is bounded and only logs what went wrong. Activity locks renewed while activities run (<see cref="ActivityLockRenewals"/>). A drain
/// before the worker stops (<see cref="DrainAsync"/>). The stale messages DTFx's own dispatcher drops, dropped
/// (<see cref="DropStaleMessages"/>). An activity whose abandon failed let run again (<see cref="ActivitySessions"/>). And a
/// job the engine failed, not one of its steps, logged (<see cref="EngineFailures"/>). A step another process completed first
/// abandoned with a Warning, as DurableTask.Core's own dispatcher does. Everything else is passed through.
/// </summary>
sealed class SidecarOrchestrationService(IOrchestrationService inner, TimeSpan visibilityTimeout, TimeSpan longestActivity, ILogger logger,
    TimeSpan? stopBound = null, TimeSpan? firstStartRetry = null, TimeProvider? time = null)
    : IOrchestrationService
{
    // The process is stopping: past this the engine's leases are left to lapse, as after a crash.
    readonly TimeSpan _stopBound = stopBound ?? TimeSpan.FromSeconds(15);
    readonly ActivityLockRenewals _renewals = new(inner, visibilityTimeout, longestActivity, logger);
    readonly SemaphoreSlim _gate = new(1, 1);
    bool _started;
    // Cancelled by the drain or the stop: from then on no work is fetched and the engine is not started.
    readonly CancellationTokenSource _stopping = new();
    // Work items locked and not yet completed or abandoned (activities, by id: a failed completion is abandoned too) or released (orchestrations).
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _activities = new();
    int _orchestrations;

    /// <summary>Stops renewing every activity's lock, so that what this process will not finish comes back to the task hub.</summary>
    public Task LetGoOfActivitiesAsync(CancellationToken cancellationToken) => _renewals.StopAllAsync(cancellationToken);

    /// <summary>
    /// Takes no more work and waits, at most until <paramref name="cancellationToken"/>, for the work items under way
    /// to be completed, while the worker still runs: stopped first, it would cut off the delivery of an activity that
    /// had finished (a paid upstream call), which then ran again on the next process.
    /// </summary>
    public async Task<bool> DrainAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            while (!_activities.IsEmpty || Volatile.Read(ref _orchestrations) > 0)
                await Task.Delay(TimeSpan.FromMilliseconds(20), time ?? TimeProvider.System, cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("{Activities} activities and {Orchestrations} orchestration steps were still running at the stop: they run again on the next process",
                _activities.Count, Volatile.Read(ref _orchestrations));
            return false;
        }
    }

    // Once draining or stopped, a fetch waits for the dispatcher's own stop (a null work item would only be fetched again at once).
    async Task<T?> FetchAsync<T>(Func<CancellationToken, Task<T>> fetch, CancellationToken cancellationToken) where T : class
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        try
        {
            if (!_stopping.IsCancellationRequested) return await fetch(either.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
        }
        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        return null;
    }

    public async Task StartAsync()
    {
        try
        {
            await StartRetries.RunAsync(StartOnceAsync,
                (e, delay) => logger.LogWarning("The Durable engine could not start ({Reason}); trying again in {Delay} s", e.Message, delay.TotalSeconds),
                _stopping.Token, firstStartRetry);
        }
        catch (Exception e) when (_stopping.IsCancellationRequested)
        {
            logger.LogDebug("The Durable engine's start ended with the stop: {Reason}", e.Message);
        }
    }

    async Task StartOnceAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_started || _stopping.IsCancellationRequested) return;
            await inner.StartAsync();
            _started = true;
        }
        finally { _gate.Release(); }
    }

    public Task StopAsync() => StopAsync(isForced: false);

    public async Task StopAsync(bool isForced)
    {
        await _stopping.CancelAsync();
        using (var bound = new CancellationTokenSource(_stopBound)) await _renewals.StopAllAsync(bound.Token);
        if (!await _gate.WaitAsync(_stopBound)) // a start under way is let finish, and then stopped
        {
            logger.LogWarning("The Durable engine was still starting or stopping when the stop's bound passed; its partition leases lapse on their own");
            return;
        }
        try
        {
            if (!_started) return;
            _started = false;
            await inner.StopAsync(isForced).WaitAsync(_stopBound);
        }
        catch (Exception e)
        {
            logger.LogWarning(e is TimeoutException ? null : e, "The Durable engine did not stop cleanly ({Reason}); its partition leases lapse on their own",
                e.Message);
        }
        finally { _gate.Release(); }
    }

    public Task CreateAsync() => inner.CreateAsync();
    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);
    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();
    public Task DeleteAsync() => inner.DeleteAsync();
    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);
    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);
    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);
    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);
    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;
    public int MaxConcurrentTaskOrchestrationWorkItems => inner.MaxConcurrentTaskOrchestrationWorkItems;
    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;
    public async Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var workItem = await FetchAsync(token => inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, token), cancellationToken);
        if (workItem is null) return null!;
        Interlocked.Increment(ref _orchestrations);
        DropStaleMessages(workItem, logger);
        return workItem;
    }

    /// <summary>
    /// What DTFx's own dispatcher drops before a step runs (ReconcileMessagesWithState) and the sidecar's does not: a
    /// second start (a control-queue message whose visibility ran out while it waited on a loaded host is delivered
    /// again, and the state would then hold two starts: the step fails with "Multiple ExecutionStartedEvent found" each
    /// time it is tried), and messages of another execution of the instance (the app never reuses a job id, so only for
    /// parity with the Functions host). They are still deleted with the step: the engine deletes the messages it
    /// delivered, not this list.
    /// </summary>
    internal static void DropStaleMessages(TaskOrchestrationWorkItem workItem, ILogger logger)
    {
        if (workItem.NewMessages is not { Count: > 0 } messages) return;
        var starts = messages.Where(m => m.Event is ExecutionStartedEvent);
        var started = workItem.OrchestrationRuntimeState?.ExecutionStartedEvent;
        var execution = (started?.OrchestrationInstance ?? starts.FirstOrDefault()?.OrchestrationInstance)?.ExecutionId;
        var kept = new List<TaskMessage>(messages.Count);
        foreach (var message in messages)
        {
            var stale = message.Event is ExecutionStartedEvent
                ? started is not null || kept.Any(m => m.Event is ExecutionStartedEvent)
                : !string.IsNullOrEmpty(message.OrchestrationInstance?.ExecutionId) && execution is not null && message.OrchestrationInstance.ExecutionId != execution;
            if (stale)
                logger.LogWarning("Job {InstanceId}: dropped a {EventType} message that is stale (a start delivered again, or another execution's)",
                    workItem.InstanceId, message.Event.EventType);
            else kept.Add(message);
        }
        if (kept.Count < messages.Count) workItem.NewMessages = kept;
    }
    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);
    public async Task CompleteTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages, IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage, OrchestrationState orchestrationState)
    {
        try
        {
            await inner.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages,
                continuedAsNewMessage, orchestrationState);
        }
        catch (Exception e) when (RefusalAsAnotherProcessWasFirst(e) is { } refusal)
        {
            // Another process completed this step, or took its messages, first (two on one task hub, one of them slow).
            // DurableTask.Core's own dispatcher abandons such a work item with a Warning; the sidecar's logged an Error with its stack.
            logger.LogWarning("Job {JobId}: another process of the task hub completed this step, or took its messages, first; this process lets the step go ({Reason})",
                workItem.InstanceId, Echo.Line(refusal.Message.Split('\n')[0], 300)); // storage's first line, without its request ids
            try { await inner.AbandonTaskOrchestrationWorkItemAsync(workItem); }
            catch (Exception lost) when (RefusalAsAnotherProcessWasFirst(lost) is not null) { } // the messages are that process's now
            return;
        }
        // A step's failure is logged by the orchestrator; one of the engine's (a replay that no longer matches the code) is logged here, as the Functions host does in Azure.
        if (orchestrationState is { OrchestrationStatus: OrchestrationStatus.Failed } failed && !EngineFailures.FailedInAStep(failed.Status))
            LogEngineFailure(failed);
    }

    /// <summary>
    /// The engine's refusal, in the exception or one it wraps, of a step another process has completed (the history's
    /// ETag moved) or whose messages it has taken (their pop receipts changed) meanwhile; null for any other failure.
    /// </summary>
    static Exception? RefusalAsAnotherProcessWasFirst(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
            if (error is DurableTask.Core.Exceptions.SessionAbortedException or Azure.RequestFailedException { Status: 412 }
                or Azure.RequestFailedException { ErrorCode: "PopReceiptMismatch" }) return error;
        return null;
    }

    void LogEngineFailure(OrchestrationState failed)
    {
        var (type, text) = (failed.FailureDetails?.ErrorType, failed.FailureDetails?.ErrorMessage ?? failed.Output);
        if (EngineFailures.StepsChanged(type, text))
            logger.LogWarning("Job {JobId} failed: its history no longer matches the orchestrator's steps (a deployment changed them while it ran): {Reason}",
                failed.OrchestrationInstance?.InstanceId, Echo.Line(text, 1000));
        else
            logger.LogError("Job {JobId} failed outside its steps (in the job engine, or in the orchestrator's own code): {ErrorType}: {Reason}", failed.OrchestrationInstance?.InstanceId, type,
                Echo.Line(text, 1000));
    }
    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.AbandonTaskOrchestrationWorkItemAsync(workItem);
    public async Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        try { await inner.ReleaseTaskOrchestrationWorkItemAsync(workItem); }
        finally { Interlocked.Decrement(ref _orchestrations); }
    }
    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;
    public int MaxConcurrentTaskActivityWorkItems => inner.MaxConcurrentTaskActivityWorkItems;
    public async Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var workItem = await FetchAsync(token => inner.LockNextTaskActivityWorkItem(receiveTimeout, token), cancellationToken);
        if (workItem is null) return null!;
        _activities[workItem.Id] = 0;
        _renewals.Start(workItem, givenUp: () => _activities.TryRemove(workItem.Id, out _));
        return workItem;
    }
    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => inner.RenewTaskActivityWorkItemLockAsync(workItem);
    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        await _renewals.StopAsync(workItem);
        try { await inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage); }
        finally { _activities.TryRemove(workItem.Id, out _); }
    }

    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        await _renewals.StopAsync(workItem);
        try { await inner.AbandonTaskActivityWorkItemAsync(workItem); }
        catch (Exception e)
        {
            if (ActivitySessions.Forget(inner, workItem.Id))
                logger.LogWarning("An activity's message ({TaskName}, job {InstanceId}) could not be given back to storage ({Reason}); the step runs again when the message next comes",
                    (workItem.TaskMessage.Event as TaskScheduledEvent)?.Name, workItem.TaskMessage.OrchestrationInstance?.InstanceId, e.Message);
            throw;
        }
        finally { _activities.TryRemove(workItem.Id, out _); }
    }
}
