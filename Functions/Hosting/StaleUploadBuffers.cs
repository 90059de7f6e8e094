namespace Functions.Hosting;

/// <summary>
/// Removes the multipart buffers that a process of the service left behind when it was killed (kill -9, out of memory)
/// while an upload arrived: ASP.NET Core's form reader writes a file part past 64 KiB to an <c>ASPNETCORE_*.tmp</c> file
/// and deletes it only when it is disposed. Once, after the host has started, so that it costs the start nothing; only
/// files not written for an hour, since a live upload's buffer is written at least every Api:BodySilenceSeconds.
/// </summary>
sealed class StaleUploadBuffers(IHostApplicationLifetime lifetime, TimeProvider clock, ILogger<StaleUploadBuffers> logger) : IHostedService
{
    static readonly TimeSpan Stale = TimeSpan.FromHours(1);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = Task.Run(Remove));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    void Remove()
    {
        // Where ASP.NET Core puts them (its AspNetCoreTempDirectory): ASPNETCORE_TEMP, else the system's.
        var directory = Environment.GetEnvironmentVariable("ASPNETCORE_TEMP") is { Length: > 0 } set ? set : Path.GetTempPath();
        var removed = 0;
        try
        {
            foreach (var file in new DirectoryInfo(directory).EnumerateFiles("ASPNETCORE_*.tmp"))
            {
                if (clock.GetUtcNow() - file.LastWriteTimeUtc < Stale) continue;
                try
                {
                    file.Delete();
                    removed++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // another user's, or removed meanwhile
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("The temporary directory {Directory} could not be swept of stale upload buffers: {Reason}", directory, e.Message);
            return;
        }
        if (removed > 0) logger.LogInformation("Removed {Count} upload buffers that an ended process left in {Directory}", removed, directory);
    }
}
