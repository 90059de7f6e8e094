using System.Collections.Concurrent;
using Azure;
using DurableTask.Core;

namespace Functions.LocalHost;

/// <summary>
/// Keeps the queue message of each running activity invisible to other workers: DurableTask.Core's own dispatcher
/// renews an activity's lock while it runs, the sidecar's does not, so an activity longer than the visibility timeout
/// would be run a second time (by this process or another one on the same task hub). Renewed every third of the
/// timeout, again within a second after a failure; a renewal runs to its end before the activity's message is
/// completed or abandoned (the two would race on the message's pop receipt). It ends when the activity does, when the
/// engine no longer has the message, when the process lets go (shutdown), or after the longest an activity can take:
/// the sidecar may lose an activity (its worker gone) without ever completing or abandoning it, and its message must
/// then come back to the task hub. A renewal that ends on its own says so (<c>givenUp</c>), as nothing else will.
/// </summary>
sealed class ActivityLockRenewals(IOrchestrationService engine, TimeSpan visibilityTimeout, TimeSpan longestActivity, ILogger logger)
{
    static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(1);
    readonly ConcurrentDictionary<string, Renewal> _running = new();

    sealed record Renewal(CancellationTokenSource Stop, Task Loop);

    public void Start(TaskActivityWorkItem workItem, Action givenUp)
    {
        Renewal? renewal = null;
        // Made cold and started once registered: a renewal that ends at once must find itself to remove.
        var run = new Task<Task>(() => RunAsync(workItem, renewal!, givenUp));
        renewal = new Renewal(new CancellationTokenSource(longestActivity), run.Unwrap());
        _running[workItem.Id] = renewal;
        run.Start(TaskScheduler.Default);
    }

    async Task RunAsync(TaskActivityWorkItem workItem, Renewal renewal, Action givenUp)
    {
        await RenewAsync(workItem, renewal.Stop.Token);
        // Not ended by a completion, an abandon or the stop (they take it out first): nothing else will let go of it.
        if (!_running.TryRemove(KeyValuePair.Create(workItem.Id, renewal))) return;
        if (renewal.Stop.IsCancellationRequested)
            logger.LogWarning("Activity message {Id} was neither completed nor abandoned within {Seconds} s, the longest an activity can take: given up, it comes back to the task hub",
                workItem.Id, longestActivity.TotalSeconds);
        renewal.Stop.Dispose();
        givenUp();
    }

    public async Task StopAsync(TaskActivityWorkItem workItem)
    {
        if (_running.TryRemove(workItem.Id, out var renewal)) await EndAsync(renewal);
    }

    /// <summary>
    /// When the process stops: an activity cut off by the stop must come back after the visibility timeout. Renewals
    /// under way are waited for until <paramref name="cancellationToken"/> only: one may hang on a storage that stopped
    /// answering, and the stop must not (nothing completes or abandons their messages after this).
    /// </summary>
    public async Task StopAllAsync(CancellationToken cancellationToken)
    {
        var ending = new List<Task>();
        foreach (var id in _running.Keys)
            if (_running.TryRemove(id, out var renewal)) ending.Add(EndAsync(renewal));
        try
        {
            await Task.WhenAll(ending).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("{Count} activity lock renewals were still under way at the stop's bound; their messages come back on their own", ending.Count(t => !t.IsCompleted));
        }
    }

    static async Task EndAsync(Renewal renewal)
    {
        await renewal.Stop.CancelAsync();
        await renewal.Loop;
        renewal.Stop.Dispose();
    }

    async Task RenewAsync(TaskActivityWorkItem workItem, CancellationToken stop)
    {
        var pause = visibilityTimeout / 3;
        var failures = 0;
        while (true)
        {
            try
            {
                await Task.Delay(pause, stop);
                var renewed = await engine.RenewTaskActivityWorkItemLockAsync(workItem);
                // The engine no longer knows the work item (it gave it up): nothing is left to keep.
                if (renewed.LockedUntilUtc <= DateTime.UtcNow) return;
                if (failures > 0) logger.LogInformation("Renewed the lock of activity message {Id} again, after {Failures} failed tries", workItem.Id, failures);
                failures = 0;
                pause = visibilityTimeout / 3;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (IsGone(e))
            {
                logger.LogWarning("Activity message {Id} is no longer ours to renew ({Reason})", workItem.Id, e.Message);
                return;
            }
            catch (Exception e)
            {
                // Storage away for a moment: try again soon, while the lock still holds. Said once per outage, not at each
                // try: every second, for each running activity, for as long as an activity may take, would flood the log.
                if (failures++ == 0) logger.LogWarning("Could not renew the lock of activity message {Id} ({Reason}); trying again every {Seconds} s",
                    workItem.Id, e.Message, RetryAfterFailure.TotalSeconds);
                else logger.LogDebug("Could not renew the lock of activity message {Id} ({Reason}), try {Try}", workItem.Id, e.Message, failures);
                pause = RetryAfterFailure;
            }
        }
    }

    // Another worker has the message now, or it is gone: renewing again cannot help.
    static bool IsGone(Exception? error)
    {
        for (; error is not null; error = error.InnerException)
            if (error is RequestFailedException { Status: 404 } or RequestFailedException { ErrorCode: "PopReceiptMismatch" }) return true;
        return false;
    }
}
