namespace Functions.Storage;

/// <summary>A failed Azure Storage call: the HTTP status and the service's error code.</summary>
public sealed class StorageException(int status, string? errorCode, string message)
    : Exception($"Storage answered {status} {errorCode}: {message}")
{
    public int Status { get; } = status;
    public string? ErrorCode { get; } = errorCode;

    public bool IsNotFound => Status == 404;
    public bool IsConflict => Status == 409;
    public bool IsPreconditionFailed => Status == 412;
}
