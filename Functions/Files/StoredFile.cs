namespace Functions.Files;

/// <summary>A file's metadata (kiapi FileRecord), kept as the blob's own properties and metadata.</summary>
public sealed record StoredFile(
    string FileId, string Filename, string ContentType, long Size, DateTimeOffset CreatedAt,
    bool IsPrivate, IReadOnlyDictionary<string, string> Meta)
{
    /// <summary>One of <see cref="FileKinds"/>; null for a file stored without one.</summary>
    public string? Kind => Meta.GetValueOrDefault(FileKinds.MetadataKey);

    /// <summary>The job that made this file (a generated image) or was given it (a reference copy); null for others.</summary>
    public string? JobId => Meta.GetValueOrDefault(FileStore.JobKey);

    /// <summary>The key of a generated image's history row: its job's id, or for an inline generation its own file id.</summary>
    public string HistoryKey => JobId ?? FileId;
}
