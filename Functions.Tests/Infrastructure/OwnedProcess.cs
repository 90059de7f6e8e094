using System.Diagnostics;

namespace Functions.Tests.Infrastructure;

/// <summary>
/// A child process a test or benchmark started and owns: killed (SIGKILL, its whole tree) when disposed. Killing an
/// Azurite is what a storage outage looks like to the app; killing the app is a crash.
/// </summary>
public abstract class OwnedProcess(Process process) : IAsyncDisposable
{
    protected Process Process { get; } = process;

    public int ExitCode => Process.ExitCode;

    public int Id => Process.Id;

    public bool HasExited => Process.HasExited;

    /// <summary>SIGKILL: the process dies at once, mid-request, with nothing flushed or shut down.</summary>
    public void Kill()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.WaitForExit(5000);
    }

    /// <summary>SIGTERM, as a host or `kill` stops a service; true when the process exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", Process.Id.ToString()])) await kill.WaitForExitAsync();
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        Process.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
