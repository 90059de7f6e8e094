using Functions.Contracts.Kioai;

namespace Functions.Generation;

/// <summary>
/// What a generation stored, inline or in a job: the history image, its file and the call that made it; a job's also when
/// it started, since its output outlives a crash that loses its custom status (see <see cref="Jobs.JobFailedException"/>).
/// </summary>
public sealed record JobResult(long ImageId, string FileId, long ImageBytes, int Width, int Height, string ContentType, DateTimeOffset CreatedAt,
    ApiDebugInfo ApiDebug, DateTimeOffset? JobStartedAt = null);
