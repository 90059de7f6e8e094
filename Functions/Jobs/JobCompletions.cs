using System.Collections.Concurrent;

namespace Functions.Jobs;

/// <summary>
/// In-process signals from the worker to requests waiting on their job, so that a sync generate needs no polling.
/// A waiter registers before its job is enqueued and unregisters when it stops waiting.
/// </summary>
public sealed class JobCompletions
{
    readonly ConcurrentDictionary<string, TaskCompletionSource<JobRecord>> _waiting = new();

    public Task<JobRecord> Register(string jobId) =>
        _waiting.GetOrAdd(jobId, _ => new TaskCompletionSource<JobRecord>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Complete(JobRecord job)
    {
        if (_waiting.TryGetValue(job.Id, out var completion)) completion.TrySetResult(job);
    }

    public void Unregister(string jobId) => _waiting.TryRemove(jobId, out _);
}
