namespace Functions.LocalHost;

/// <summary>
/// How the local host starts what needs storage that may not be up yet (Azurite still starting, an outage): tried again
/// after 1 s, then twice as long each time up to 10 s, until it starts or the host stops.
/// </summary>
static class StartRetries
{
    static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);
    static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="start"/> until it succeeds; throws only once <paramref name="stopping"/> is cancelled.</summary>
    public static async Task RunAsync(Func<Task> start, Action<Exception, TimeSpan> failed, CancellationToken stopping, TimeSpan? firstDelay = null)
    {
        for (var delay = firstDelay ?? FirstDelay; ; delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks)))
        {
            try
            {
                await start();
                return;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                failed(e, delay);
                await Task.Delay(delay, stopping);
            }
        }
    }
}
