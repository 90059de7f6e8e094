using System.Threading.RateLimiting;
using Functions.Generation;

namespace Functions.Files;

/// <summary>
/// The memory that images sent in by clients hold at once, all together (Generation:UploadBudgetMegabytes), one permit
/// per MiB, rounded up: file uploads, and generate bodies past <see cref="Hosting.RequestBody.SpoolAboveBytes"/> (an
/// inline reference image). Without it, memory grew with the requests in flight: 200 uploads of 9 MiB took the local
/// host to 2.4 GB, 50 generates with a 9 MiB reference to 1.9 GB, and under a 1 GiB heap limit uploads answered 500
/// out of memory. Requests that do not fit wait first come, first served for Generation:DecodeWaitSeconds, then answer
/// 503 server_busy. Bodies are buffered on disk while they arrive, outside this budget.
/// </summary>
public sealed class UploadBudget(IOptions<GenerationOptions> options) : IDisposable
{
    const int Mebibyte = 1024 * 1024;

    readonly TimeSpan _maxWait = TimeSpan.FromSeconds(options.Value.DecodeWaitSeconds);
    readonly ConcurrencyLimiter _limiter = BoundedLease.Limiter(options.Value.UploadBudgetMegabytes);

    /// <summary>Requests waiting now for room, in permits (MiB).</summary>
    public long Waiting => _limiter.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>An upload holds its bytes twice while it is checked and stored: its array and the image codec's copy.</summary>
    public static long HeldByUpload(long fileBytes) => 2 * fileBytes;

    /// <summary>
    /// A generate body is held whole while it is parsed, beside its reference image decoded from Base64 (3/4 of it at
    /// most) and the codec's copy while the image is checked (as much again).
    /// </summary>
    public static long HeldByGenerateBody(long bodyBytes) => bodyBytes * 5 / 2;

    /// <summary>The budget's smallest size: what the largest upload or generate body accepted holds must fit in it.</summary>
    public static int MinimumMegabytes => PermitsFor(Math.Max(HeldByUpload(UploadFile.MaxBytes), HeldByGenerateBody(GenerateImageValidator.MaxBodyBytes)));

    /// <summary>The permits for this many bytes held: their size in MiB, rounded up, at least one.</summary>
    public static int PermitsFor(long heldBytes) => (int)Math.Max(1, (heldBytes + Mebibyte - 1) / Mebibyte);

    /// <summary>A request's share, to dispose of once the bytes are stored or refused; <see cref="BudgetBusyException"/> when the wait ends without it.</summary>
    public Task<RateLimitLease> AcquireAsync(long heldBytes, CancellationToken cancellationToken) =>
        BoundedLease.AcquireAsync(_limiter, PermitsFor(heldBytes), _maxWait,
            () => "The service is holding as many uploaded images as its memory allows; try again shortly.", cancellationToken);

    public void Dispose() => _limiter.Dispose();
}
