namespace Functions.Files;

/// <summary>A file's record and its bytes as a seekable stream, with the validators a download answers with.</summary>
public sealed record FileContent(StoredFile File, Stream Content, string ETag, DateTimeOffset LastModified);
