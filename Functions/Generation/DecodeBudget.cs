using System.Threading.RateLimiting;

namespace Functions.Generation;

/// <summary>
/// The process's budget of decode memory (Generation:DecodeBudgetMegapixels), which every full decode of
/// <see cref="ImageInspector"/> draws on: one permit per 4 MB it holds (a megapixel of its 4-byte bitmap), rounded up,
/// held while its pixels live; what it holds is <see cref="ImageInspector.DecodeBytes"/>, the bitmap and any whole image
/// its codec keeps beside it. A 50-megapixel PNG of one colour is well under 1 MiB, so without it a few small requests
/// could make the process take gigabytes. Decodes that do not fit wait first come, first served (a large image is not
/// overtaken by small ones): a client's image for at most Generation:DecodeWaitSeconds, then it fails as
/// <see cref="BudgetBusyException"/>; an upstream's image (<see cref="DecodeWait.AsLongAsCaller"/>) for as long as its
/// caller waits, as it is paid for.
/// </summary>
public sealed class DecodeBudget(IOptions<GenerationOptions> options) : IDisposable
{
    readonly TimeSpan _maxWait = TimeSpan.FromSeconds(options.Value.DecodeWaitSeconds);

    readonly ConcurrencyLimiter _limiter = BoundedLease.Limiter(options.Value.DecodeBudgetMegapixels);

    /// <summary>Megapixels asked for by the decodes waiting now.</summary>
    public long Waiting => _limiter.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>What one permit stands for: a megapixel of the 4-byte bitmap a decode fills.</summary>
    public const long BytesPerPermit = 4_000_000;

    /// <summary>The permits a decode holding this many bytes takes: its 4 MB, rounded up, at least one.</summary>
    public static int PermitsFor(long decodeBytes) => (int)Math.Max(1, (decodeBytes + BytesPerPermit - 1) / BytesPerPermit);

    /// <summary>
    /// The image's share of the budget, to dispose of once its pixels are freed. Throws <see cref="BudgetBusyException"/>
    /// when a bounded wait ends without the share, and OperationCanceledException when the caller gives up first.
    /// </summary>
    public Task<RateLimitLease> AcquireAsync(ImageInfo image, long decodeBytes, DecodeWait how, CancellationToken cancellationToken) =>
        BoundedLease.AcquireAsync(_limiter, PermitsFor(decodeBytes), how == DecodeWait.Bounded ? _maxWait : null,
            () => $"The service is checking too many large images to check this one ({image.Width} x {image.Height} pixels) now; try again shortly.",
            cancellationToken);

    public void Dispose() => _limiter.Dispose();
}

/// <summary>How long a decode waits for its share of the budget.</summary>
public enum DecodeWait
{
    /// <summary>Generation:DecodeWaitSeconds: a client's image (an upload, a reference), which the client can send again.</summary>
    Bounded,

    /// <summary>
    /// As long as the caller waits (a job's deadline, an inline generation's bound): an upstream's image, paid for, which a
    /// second try would pay for again.
    /// </summary>
    AsLongAsCaller,
}
