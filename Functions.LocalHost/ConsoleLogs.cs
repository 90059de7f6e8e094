namespace Functions.LocalHost;

/// <summary>The console log of the local host and of its Durable sidecar, in one form.</summary>
static class ConsoleLogs
{
    /// <summary>
    /// Each line stamped with its UTC time, to set beside a client's report; the Durable Task framework's per-step
    /// lines (6 to 8 a job) only from warnings up, as the app logs each job's end itself.
    /// </summary>
    public static ILoggingBuilder UseLocalHostConsole(this ILoggingBuilder logging) => logging
        .AddSimpleConsole(console =>
        {
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            console.UseUtcTimestamp = true;
        })
        .AddFilter("Microsoft.DurableTask", LogLevel.Warning);
}
