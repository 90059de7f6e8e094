namespace Functions.LocalHost;

/// <summary>
/// Makes the task hub again once its storage has lost it (an emulator restarted empty, a table or queue deleted by
/// hand), instead of leaving the jobs API 503 until the process restarts. The running engine keeps polling its queues
/// and partition table and takes them up again once they exist. DurableTask.AzureStorage makes a hub once per service
/// instance, so the sidecar's <paramref name="makeHub"/> asks a new one with the same settings (every part "if not exists").
/// One repair at a time, in the background, and none within <see cref="Pause"/> of the last: the request that found
/// the loss answers 503 with Retry-After, and the next finds the hub.
/// </summary>
public sealed class TaskHubRepair(Func<Task> makeHub, ILogger logger)
{
    static readonly TimeSpan Pause = TimeSpan.FromSeconds(5);
    int _underWay;
    long _lastEnded = long.MinValue / 2; // Environment.TickCount64

    public void Begin()
    {
        if (Environment.TickCount64 - Interlocked.Read(ref _lastEnded) < Pause.TotalMilliseconds) return;
        if (Interlocked.CompareExchange(ref _underWay, 1, 0) != 0) return;
        _ = Task.Run(RepairAsync);
    }

    async Task RepairAsync()
    {
        try
        {
            logger.LogWarning("The task hub is gone from storage (jobs from before are lost with it); making it again");
            await makeHub();
            logger.LogInformation("The task hub was made again");
        }
        catch (Exception e)
        {
            logger.LogWarning("The task hub could not be made again yet ({Reason}); the next request that finds it gone tries again", e.Message);
        }
        finally
        {
            Interlocked.Exchange(ref _lastEnded, Environment.TickCount64);
            Volatile.Write(ref _underWay, 0);
        }
    }
}
