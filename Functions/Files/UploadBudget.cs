using System.Threading.RateLimiting;
using Functions.Generation;

namespace Functions.Files;

/// <summary>
/// The memory uploads hold at once, all together (Generation:UploadBudgetMegabytes): an upload holds its bytes twice
/// while it is checked and stored (its array and the image codec's copy), one permit per MiB, rounded up. Without it,
/// memory grew with the uploads in flight (200 uploads of 9 MiB took the local host to 2.4 GB, and under a 1 GiB heap
/// limit some answered 500 out of memory). Uploads that do not fit wait first come, first served for
/// Generation:DecodeWaitSeconds, then answer 503 server_busy. The body itself is buffered on disk, not in this budget.
/// </summary>
public sealed class UploadBudget(IOptions<GenerationOptions> options) : IDisposable
{
    const int Mebibyte = 1024 * 1024;

    readonly TimeSpan _maxWait = TimeSpan.FromSeconds(options.Value.DecodeWaitSeconds);
    readonly ConcurrencyLimiter _limiter = BoundedLease.Limiter(options.Value.UploadBudgetMegabytes);

    /// <summary>Uploads waiting now for room, in permits (MiB).</summary>
    public long Waiting => _limiter.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>The permits an upload of this many bytes holds: twice its size in MiB, rounded up, at least one.</summary>
    public static int PermitsFor(long bytes) => (int)Math.Max(1, (2 * bytes + Mebibyte - 1) / Mebibyte);

    /// <summary>The upload's share, to dispose of once it is stored or refused; <see cref="DecodeBusyException"/> when the wait ends without it.</summary>
    public Task<RateLimitLease> AcquireAsync(long bytes, CancellationToken cancellationToken) =>
        BoundedLease.AcquireAsync(_limiter, PermitsFor(bytes), _maxWait,
            () => "The service is holding as many uploads as its memory allows; try again shortly.", cancellationToken);

    public void Dispose() => _limiter.Dispose();
}
