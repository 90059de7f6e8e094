using System.Collections;
using System.Reflection;
using DurableTask.AzureStorage;
using DurableTask.Core;

namespace Functions.LocalHost;

/// <summary>
/// DurableTask.AzureStorage's table of the activity messages it is running (a private field). An entry leaves it only
/// when the message's completion or abandon succeeds; every delivery of a message still in it is dropped. With storage
/// down at both (Azurite stopped while a Store ran), the entry stayed for the process's life: the step never ran again
/// and its job stayed running. Forgetting the entry lets the next delivery run the step again, as DTFx means an
/// abandoned message to (every activity of the app is idempotent).
/// </summary>
static class ActivitySessions
{
    static readonly FieldInfo? Field =
        typeof(AzureStorageOrchestrationService).GetField("activeActivitySessions", BindingFlags.Instance | BindingFlags.NonPublic);

    /// <summary>Whether this version of DurableTask.AzureStorage keeps the table where this reads it (a test checks it on every upgrade).</summary>
    public static bool AreReachable => Field?.FieldType.IsAssignableTo(typeof(IDictionary)) == true;

    /// <summary>Forgets the work item's entry; false when the engine is not DurableTask.AzureStorage or holds none for it.</summary>
    public static bool Forget(IOrchestrationService engine, string workItemId)
    {
        if (engine is not AzureStorageOrchestrationService || Field?.GetValue(engine) is not IDictionary sessions || !sessions.Contains(workItemId))
            return false;
        sessions.Remove(workItemId);
        return true;
    }
}
