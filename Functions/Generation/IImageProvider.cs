using Functions.Contracts.Kioai;

namespace Functions.Generation;

/// <summary>What a provider is asked to make: the request, its pixel size and the reference image's bytes if any.</summary>
public sealed record ProviderRequest(GenerationRequest Request, ImageDimensions Size, ReadOnlyMemory<byte>? ReferenceImage)
{
    /// <summary>The request at the size its aspect ratio and resolution make.</summary>
    public static ProviderRequest For(GenerationRequest request, ReadOnlyMemory<byte>? reference) =>
        new(request, ImageDimensions.For(request.AspectRatio, request.Resolution), reference);
}

/// <summary>One model of the catalog as a provider sees it: the request, the catalog entry and the credential.</summary>
public sealed record ProviderCall(ProviderRequest Input, string Model, ModelEntry Entry, string Token)
{
    public string UpstreamModel => string.IsNullOrEmpty(Entry.UpstreamModel) ? Model : Entry.UpstreamModel;
}

/// <summary>The image a provider made, and the call that made it (already redacted).</summary>
public sealed record GeneratedImage(byte[] Bytes, string ContentType, int Width, int Height, ApiDebugInfo Debug)
{
    /// <summary>An upstream's image, as its inspection found it.</summary>
    public static GeneratedImage Of(byte[] bytes, ImageInfo info, ApiDebugInfo debug) => new(bytes, info.ContentType, info.Width, info.Height, debug);

    /// <summary>The image as the plan's model at <paramref name="modelIndex"/> made it, after the earlier ones failed for <paramref name="reasons"/>.</summary>
    public GeneratedImage AfterFallbacks(int modelIndex, string? reasons) =>
        this with { Debug = Debug with { UsedFallback = modelIndex > 0, FallbackReason = reasons } };
}

/// <summary>
/// Where a provider's work stands: done with an image, done with an image still at the upstream's URL (fetched by the
/// caller, so that fetching and storing are one step), or running upstream under a task id to check again.
/// </summary>
public sealed record ProviderStep(GeneratedImage? Image, string? TaskId, double Progress, ApiDebugInfo? Debug, string? ImageUrl = null,
    string? CheckFailed = null)
{
    public static ProviderStep Done(GeneratedImage image) => new(image, null, 1, image.Debug);
    public static ProviderStep Ready(string imageUrl, ApiDebugInfo debug) => new(null, null, 1, debug, imageUrl);
    /// <summary>Still running upstream; a negative progress means unknown (the check itself failed and will be repeated).</summary>
    public static ProviderStep Pending(string taskId, double progress, ApiDebugInfo? debug) => new(null, taskId, progress, debug);
    /// <summary>Still running as far as is known: the check could not read the task's state (why), and is repeated until the deadline.</summary>
    public static ProviderStep Unknown(string taskId, string why) => new(null, taskId, -1, null, CheckFailed: why);
}

/// <summary>
/// An image source: the offline renderer or an upstream. A synchronous one answers <see cref="SubmitAsync"/> with the
/// image; an asynchronous one with a task id that <see cref="CheckAsync"/> then follows, one call per check.
/// </summary>
public interface IImageProvider
{
    string Name { get; }

    /// <summary>Whether it answers with a task to check (a long generation, orchestrated) rather than with the image.</summary>
    bool Asynchronous => false;

    Task<ProviderStep> SubmitAsync(ProviderCall call, CancellationToken cancellationToken);

    Task<ProviderStep> CheckAsync(ProviderCall call, string taskId, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{Name} answers at once; it has no task to check.");
}

/// <summary>
/// A generation that did not produce an image. <see cref="Retryable"/> failures (timeouts, 429, 5xx, an open circuit)
/// move the job to its next fallback model; the others (content filter, bad request, credentials, credit) end it.
/// The code decides the client's status (see <see cref="GenerationErrors"/>).
/// </summary>
public sealed class GenerationFailedException(string code, string message, bool retryable = false)
    : Exception(Echo.Line(message, MaxMessageChars))
{
    /// <summary>
    /// An upstream's error text is quoted on one line up to this, and so is a job's failure: it travels in the job's status, which
    /// DurableTask.AzureStorage keeps in a table property of at most 32K characters (a longer one failed the job's
    /// every step: 500 generation_failed) and the Durable extension caps at 16 KB, both as serialized, where each
    /// character outside ASCII is escaped as 6 (1,000 emoji: 12,000 characters).
    /// </summary>
    public const int MaxMessageChars = 1000;

    public string Code { get; } = code;
    public bool Retryable { get; } = retryable;
    /// <summary>When calls to the provider resume, if known (its circuit is open): the answer's Retry-After.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
