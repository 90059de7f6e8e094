namespace Functions.LocalHost;

/// <summary>
/// Whether the stop cut the Durable worker off with steps under way (the drain ran out, which the sidecar logs as one
/// Warning: they run again on the next process). The worker logs each delivery it could then not make as an
/// "Unexpected error" with its stack, twice, so from then on its errors are left out of the log (<see cref="ConsoleLogs"/>).
/// </summary>
sealed class WorkerCutOff
{
    volatile bool _happened;

    public bool Happened => _happened;

    public void Mark() => _happened = true;
}
