using System.Threading.RateLimiting;

namespace Functions.Hosting;

/// <summary>
/// A large body read in two steps: spooled to a temporary file as it arrives, then read into one array of its exact
/// size under a share of a memory budget. A slow or stalled client then holds neither memory nor budget while it sends,
/// and the array is not grown by doubling (a 12.5 MB body took 24 MB in buffers that way).
/// </summary>
static class SpooledBody
{
    const int CopyBufferBytes = 81920;

    /// <summary>
    /// The whole body (<paramref name="start"/>, already read, then the rest of <paramref name="body"/>) and its
    /// share, which the caller disposes of; a null array when the body is longer than <paramref name="maxBytes"/>.
    /// </summary>
    public static async Task<(byte[]? Bytes, RateLimitLease? Share)> ReadAsync(Stream body, ReadOnlyMemory<byte> start, long maxBytes,
        RequestBody.MemoryShare share, CancellationToken cancellationToken)
    {
        await using var spool = OpenSpool();
        await spool.WriteAsync(start, cancellationToken);
        var buffer = new byte[CopyBufferBytes];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (spool.Length + read > maxBytes) return (null, null);
            await spool.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        var lease = await share(spool.Length, cancellationToken);
        try
        {
            var bytes = new byte[spool.Length];
            spool.Position = 0;
            await spool.ReadExactlyAsync(bytes, cancellationToken);
            return (bytes, lease);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    // A file no other process needs to see: on Unix its name goes as soon as it is open, so that a process killed while
    // a body arrives (kill -9, out of memory) leaves nothing behind; .NET's DeleteOnClose there only deletes on Dispose.
    // On Windows the system deletes a DeleteOnClose file when its last handle closes, however the process ends.
    static FileStream OpenSpool()
    {
        var path = Path.Combine(Path.GetTempPath(), Path.GetRandomFileName());
        var spool = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, CopyBufferBytes,
            FileOptions.Asynchronous | (OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose : FileOptions.None));
        try
        {
            if (!OperatingSystem.IsWindows()) File.Delete(path);
            return spool;
        }
        catch
        {
            spool.Dispose();
            throw;
        }
    }
}
