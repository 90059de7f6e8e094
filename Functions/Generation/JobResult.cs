using Functions.Contracts.Kioai;

namespace Functions.Jobs;

/// <summary>What a succeeded generation job produced.</summary>
public sealed record JobResult(long ImageId, string FileId, long ImageBytes, int Width, int Height, string ContentType, DateTimeOffset CreatedAt,
    ApiDebugInfo ApiDebug);
