using Azure.Storage.Queues;
using Functions.Storage;

namespace Functions.Jobs;

/// <summary>Puts job ids on the jobs queue and wakes this instance's listener, so that a new job waits for no poll.</summary>
public sealed class JobQueue([FromKeyedServices(StorageNames.JobsQueue)] QueueClient queue)
{
    static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);
    readonly SemaphoreSlim _wake = new(0, 1);

    public async Task EnqueueAsync(string jobId, TimeSpan? delay, CancellationToken cancellationToken)
    {
        await queue.SendMessageAsync(jobId, delay ?? TimeSpan.Zero, NeverExpires, cancellationToken);
        if (delay is null or { Ticks: 0 } && _wake.CurrentCount == 0)
        {
            try { _wake.Release(); } catch (SemaphoreFullException) { } // already awake
        }
    }

    /// <summary>Waits until new work was enqueued here or the timeout passes.</summary>
    public Task WaitForWorkAsync(TimeSpan timeout, CancellationToken cancellationToken) => _wake.WaitAsync(timeout, cancellationToken);
}
