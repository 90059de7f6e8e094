
namespace Functions.Generation;

/// <summary>
/// A generate body that passed validation: enums resolved to their defaults, the reference image decoded and checked
/// (its type and size from its codec), or named by an uploaded file's id (at most one of the two), with the type
/// referenceImageMime declares for that file, checked once it is read.
/// </summary>
public sealed record GenerateImageInput(
    string Prompt, string Style, string AspectRatio, string Model, string? Resolution, bool IsPrivate, long? Seed,
    byte[]? ReferenceImage, ImageInfo? ReferenceInfo, string? ReferenceFileId = null, string? ReferenceFileDeclaredType = null)
{
    /// <summary>The request a generation runs with, its reference image named by <paramref name="referenceId"/>.</summary>
    public GenerationRequest RequestOf(string? referenceId) =>
        new(Prompt, Style, AspectRatio, Model, Resolution, IsPrivate, Seed, referenceId);
}
