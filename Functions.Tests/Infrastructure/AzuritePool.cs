using System.Diagnostics;

namespace Functions.Tests.Infrastructure;

/// <summary>
/// Emulators handed from one test class to the next, rested and emptied in between. A new Azurite costs 2.2 s of CPU (node loading
/// its modules): started for each of the suite's 130 fixtures, that was a third of the suite's CPU on a 2-core machine.
/// </summary>
public static class AzuritePool
{
    /// <summary>As many as rest or wait at once; more are killed.</summary>
    const int MaxIdle = 12;

    /// <summary>
    /// How long a given-back emulator rests before it is emptied for the next fixture: an in-process app's Durable engine
    /// may still be stopping after its fixture's dispose returned (up to the local host's 15 s stop bound), and would
    /// take the next app's messages from the task hub's queues of the same name, or write into its storage.
    /// </summary>
    static readonly TimeSpan Rest = TimeSpan.FromSeconds(20);

    static readonly List<(Azurite Azurite, long ReturnedAt)> Idle = [];

    // What the pool holds at the test run's end exits with the test host (Azurite.Start); not killed at ProcessExit,
    // where a whole-tree kill stops (SIGSTOP) each process before its SIGKILL: after such a run one was found stopped.

    /// <summary>An empty emulator of its own: a rested one a finished fixture gave back, emptied, or a new one.</summary>
    public static async Task<Azurite> RentAsync()
    {
        while (TakeRested() is { } azurite)
        {
            if (!azurite.HasExited && await TryEmptyAsync(azurite.ConnectionString)) return azurite;
            await azurite.DisposeAsync();
        }
        return await Azurite.StartAsync();
    }

    static Azurite? TakeRested()
    {
        lock (Idle)
        {
            var index = Idle.FindIndex(idle => Stopwatch.GetElapsedTime(idle.ReturnedAt) >= Rest);
            if (index < 0) return null;
            var azurite = Idle[index].Azurite;
            Idle.RemoveAt(index);
            return azurite;
        }
    }

    /// <summary>Gives an emulator back once its fixture is done with it; killed when it died or the pool is full.</summary>
    public static async Task ReturnAsync(Azurite? azurite)
    {
        if (azurite is null) return;
        lock (Idle)
        {
            if (!azurite.HasExited && Idle.Count < MaxIdle)
            {
                Idle.Add((azurite, Stopwatch.GetTimestamp()));
                return;
            }
        }
        await azurite.DisposeAsync();
    }

    /// <summary>Deletes every container, queue and table; false when the emulator does not answer at once or something comes back.</summary>
    static async Task<bool> TryEmptyAsync(string connectionString)
    {
        var storage = new EmulatorStorage(connectionString);
        try
        {
            await storage.DeleteAllAsync();
            // Emptied only if nothing came back meanwhile (something still writing would make the next fixture's storage not new).
            return await storage.IsEmptyAsync();
        }
        catch (Exception e) when (e is Azure.RequestFailedException or HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
