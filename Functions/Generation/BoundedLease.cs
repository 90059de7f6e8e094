using System.Threading.RateLimiting;

namespace Functions.Generation;

/// <summary>
/// Takes permits from one of the process's memory budgets (<see cref="DecodeBudget"/>, <see cref="Files.UploadBudget"/>),
/// waiting first come, first served: for at most <c>maxWait</c> (null: as long as the caller waits), then it throws
/// <see cref="BudgetBusyException"/> with <c>busy</c>'s message, which a request answers 503 server_busy.
/// </summary>
static class BoundedLease
{
    /// <summary>A first-come limiter of this many permits; the requests that can wait in it are bounded by the wait and the host's concurrency.</summary>
    public static ConcurrencyLimiter Limiter(int permits) => new(new ConcurrencyLimiterOptions
    {
        PermitLimit = permits, QueueLimit = int.MaxValue, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    public static async Task<RateLimitLease> AcquireAsync(ConcurrencyLimiter limiter, int permits, TimeSpan? maxWait, Func<string> busy,
        CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (maxWait is { } bound) wait.CancelAfter(bound);
        try
        {
            var lease = await limiter.AcquireAsync(permits, wait.Token);
            if (lease.IsAcquired) return lease;
            lease.Dispose();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        throw new BudgetBusyException(busy());
    }
}

/// <summary>
/// A client's image that could not be checked (decoded, or held to be checked and stored) within its memory budget's wait
/// (<see cref="DecodeBudget"/> or <see cref="Files.UploadBudget"/>): the service is busy, the image may be fine.
/// Requests answer it 503 server_busy with Retry-After (SurfaceErrors).
/// </summary>
public sealed class BudgetBusyException(string message) : Exception(message);
