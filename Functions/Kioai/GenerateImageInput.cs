namespace Functions.Kioai;

/// <summary>
/// A generate body that passed validation: enums resolved to their defaults, the reference image decoded, or named
/// by an uploaded file's id (at most one of the two).
/// </summary>
public sealed record GenerateImageInput(
    string Prompt, string Style, string AspectRatio, string Model, string? Resolution, bool IsPrivate, long? Seed,
    byte[]? ReferenceImage, string? ReferenceMime, string? ReferenceFileId = null);
