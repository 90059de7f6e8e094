namespace Functions.Generation;

/// <summary>What a provider is asked to make: the request, its pixel size and the reference image's bytes if any.</summary>
public sealed record ProviderRequest(GenerationRequest Request, ImageDimensions Size, ReadOnlyMemory<byte>? ReferenceImage);

/// <summary>The image a provider made, and the call that made it (already redacted).</summary>
public sealed record GeneratedImage(byte[] Bytes, string ContentType, int Width, int Height, ApiDebugInfo Debug);

/// <summary>An image source: the offline renderer or an upstream AI provider.</summary>
public interface IImageProvider
{
    string Name { get; }

    Task<GeneratedImage> GenerateAsync(ProviderRequest request, CancellationToken cancellationToken);
}

/// <summary>A generation that cannot succeed by trying again (bad input, content filter, missing credentials).</summary>
public sealed class GenerationFailedException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
