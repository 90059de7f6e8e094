namespace Functions.Hosting;

/// <summary>
/// The machine's temporary directory, where large request bodies are spooled while they arrive (a multipart upload,
/// a generate body past <see cref="RequestBody.SpoolAboveBytes"/>). Its faults are the service's, not the client's:
/// they were answered 400 or 422 as an unreadable body, with the server's temporary path in the message.
/// </summary>
public static class TemporaryFiles
{
    // errno on Linux (an IOException's HResult there), and the Windows HRESULTs of the same.
    const int NoSpace = 28, ReadOnlyFileSystem = 30, QuotaExceeded = 122;
    const int WindowsDiskFull = unchecked((int)0x80070070), WindowsHandleDiskFull = unchecked((int)0x80070027);

    /// <summary>
    /// Whether this request's fault of the directory is logged with its stack: the first of a minute is; the others, one
    /// line each, since a full disk fails every large body until someone frees it.
    /// </summary>
    public static bool LogsStackOf(HttpContext context) =>
        context.RequestServices.GetKeyedService<LogWindow>(nameof(TemporaryFiles))?.ShouldLog() ?? true;

    /// <summary>Whether the exception is the temporary directory's: missing, not writable, or full.</summary>
    public static bool IsFault(Exception e) =>
        e is DirectoryNotFoundException or UnauthorizedAccessException or PathTooLongException
        || e is IOException { HResult: NoSpace or ReadOnlyFileSystem or QuotaExceeded or WindowsDiskFull or WindowsHandleDiskFull };
}
