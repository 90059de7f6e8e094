using System.Collections.Concurrent;
using DurableTask.Core;

namespace Functions.LocalHost;

/// <summary>
/// Keeps the queue message of each running activity invisible to other workers: DurableTask.Core's own dispatcher
/// renews an activity's lock while it runs, the sidecar's does not, so an activity longer than the visibility timeout
/// would be run a second time (by this process or another one on the same task hub). Renewed at half the timeout;
/// a renewal runs to its end before the activity's message is completed or abandoned (the two would race on the
/// message's pop receipt).
/// </summary>
sealed class ActivityLockRenewals(IOrchestrationService engine, TimeSpan visibilityTimeout, ILogger logger)
{
    readonly ConcurrentDictionary<string, (CancellationTokenSource Stop, Task Loop)> _running = new();

    public void Start(TaskActivityWorkItem workItem)
    {
        var stop = new CancellationTokenSource();
        _running[workItem.Id] = (stop, Task.Run(() => RenewAsync(workItem, stop.Token)));
    }

    public async Task StopAsync(TaskActivityWorkItem workItem)
    {
        if (!_running.TryRemove(workItem.Id, out var renewal)) return;
        await renewal.Stop.CancelAsync();
        await renewal.Loop;
        renewal.Stop.Dispose();
    }

    async Task RenewAsync(TaskActivityWorkItem workItem, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(visibilityTimeout / 2, stop);
                var renewed = await engine.RenewTaskActivityWorkItemLockAsync(workItem);
                // The engine no longer knows the work item (it gave it up): nothing is left to keep.
                if (renewed.LockedUntilUtc <= DateTime.UtcNow) return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Storage away for a moment: the next renewal may still come in time.
                logger.LogWarning("Could not renew the lock of activity {Name} ({Reason})", workItem.TaskMessage?.Event?.EventType, e.Message);
            }
        }
    }
}
