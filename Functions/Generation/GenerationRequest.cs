namespace Functions.Generation;

/// <summary>A validated generation request, as a job keeps it. The reference image lives in the file store, by id.</summary>
public sealed record GenerationRequest(
    string Prompt,
    string Style,
    string AspectRatio,
    string Model,
    string? Resolution,
    bool IsPrivate,
    long? Seed,
    string? ReferenceFileId);
