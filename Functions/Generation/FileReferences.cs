using Functions.Files;

namespace Functions.Generation;

/// <summary>A generation's reference image, read from the file store by id when a provider needs its bytes.</summary>
public sealed class FileReferences(FileStore files)
{
    // A null array would convert to empty memory, not to "no reference".
    public async Task<ReadOnlyMemory<byte>?> ReadAsync(string? fileId, CancellationToken cancellationToken)
    {
        if (fileId is null) return null;
        return await files.ReadAllAsync(fileId, cancellationToken)
               ?? throw new GenerationFailedException(GenerationErrors.ReferenceNotFound, $"Reference file {fileId} no longer exists.");
    }
}
