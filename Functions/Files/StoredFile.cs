namespace Functions.Files;

/// <summary>A file's metadata (kiapi FileRecord), kept as the blob's own properties and metadata.</summary>
public sealed record StoredFile(
    string FileId, string Filename, string ContentType, long Size, DateTimeOffset CreatedAt,
    bool IsPrivate, IReadOnlyDictionary<string, string> Meta);
