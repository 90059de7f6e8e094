namespace Functions.Files;

/// <summary>A file's bytes (or a range of them) as storage streams them; status 304 when the client's ETag still matches.</summary>
public sealed record FileDownload(
    int Status, Stream Content, string ContentType, long ContentLength, string? ContentRange,
    string? ETag, DateTimeOffset? LastModified, IReadOnlyDictionary<string, string> Metadata) : IDisposable
{
    public void Dispose() => Content.Dispose();
}
