namespace Functions.Storage;

/// <summary>A failed Azure Storage call: the HTTP status and the service's error code.</summary>
public sealed class StorageException(int status, string? errorCode, string message)
    : Exception($"Storage answered {status} {errorCode}: {message}")
{
    public int Status { get; } = status;
    public string? ErrorCode { get; } = errorCode;

    /// <summary>Status 0: storage gave no answer (connection refused, timeouts) after the pipeline's retries.</summary>
    public bool IsUnreachable => Status == 0;

    /// <summary>Whether the fault is storage's (unreachable, 5xx) rather than a request of ours that it refused.</summary>
    public bool IsTransient => Status == 0 || Status >= 500;

    public bool IsNotFound => Status == 404;
    public bool IsConflict => Status == 409;
    public bool IsPreconditionFailed => Status == 412;
}
