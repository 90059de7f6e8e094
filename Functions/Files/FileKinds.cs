namespace Functions.Files;

/// <summary>
/// What a file is, in its <c>kind</c> metadata. Only an upload belongs to its client alone: a generated image goes with its
/// history row, and a reference copy with its job (see <see cref="Maintenance.OrphanFiles"/>).
/// </summary>
public static class FileKinds
{
    public const string MetadataKey = "kind";

    /// <summary>An image a client uploaded (POST /api/v1/files).</summary>
    public const string Upload = "upload";

    /// <summary>A job's private copy of an inline reference image; its job's id is in the <see cref="FileStore.JobKey"/> metadata.</summary>
    public const string Reference = "reference";

    /// <summary>A generated image; a job's carries the job's id in the <see cref="FileStore.JobKey"/> metadata.</summary>
    public const string Generated = "generated";
}
