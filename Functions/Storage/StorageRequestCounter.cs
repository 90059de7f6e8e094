using Azure.Core;
using Azure.Core.Pipeline;

namespace Functions.Storage;

/// <summary>Counts every request sent to storage, retries included: the figure the benchmark reports per generation.</summary>
public sealed class StorageRequestCounter
{
    long _count;

    public long Count => Interlocked.Read(ref _count);

    /// <summary>A policy for every storage client's pipeline, placed per retry so that each attempt counts.</summary>
    internal HttpPipelinePolicy Policy => new CountingPolicy(this);

    sealed class CountingPolicy(StorageRequestCounter counter) : HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref counter._count);
    }
}
