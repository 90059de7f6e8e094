using System.Diagnostics;

namespace Functions.Tests.Infrastructure;

/// <summary>
/// A child process a test or benchmark started and owns: killed (SIGKILL, its whole tree) when disposed. Killing an
/// Azurite is what a storage outage looks like to the app; killing the app is a crash.
/// </summary>
public abstract class OwnedProcess(Process process) : IAsyncDisposable
{
    protected Process Process { get; } = process;

    /// <summary>SIGKILL: the process dies at once, mid-request, with nothing flushed or shut down.</summary>
    public void Kill()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.WaitForExit(5000);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        Process.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
