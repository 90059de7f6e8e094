using Azure;

namespace Functions.Storage;

/// <summary>How a failed storage call reads to a client: never with the storage's own error text (it names our tables and keys).</summary>
public static class StorageFaults
{
    /// <summary>
    /// Storage gave no answer (connection refused, timeouts), answered with its own fault (5xx) after the clients'
    /// retries, or has lost a container, table or queue of ours: the request may succeed later (what is lost is made
    /// again, see <see cref="StorageBootstrap.Forget"/>). Azure.Core reports retries that ran out as an AggregateException.
    /// </summary>
    public static bool IsOutage(Exception e) => e switch
    {
        StorageTimeoutException => true,
        RequestFailedException failed => failed.Status == 0 || failed.Status >= 500 || IsLostResource(failed),
        AggregateException retries => retries.InnerExceptions.Count > 0
                                      && retries.InnerExceptions.All(inner => inner is OperationCanceledException || IsOutage(inner)),
        _ => false,
    };

    /// <summary>
    /// A container, table or queue the service made is gone (deleted by hand, or an emulator that restarted empty), or
    /// still being deleted, when Azure refuses to make it again for a while. Not "no such file" or "no such row", which
    /// the stores read as absent.
    /// </summary>
    public static bool IsLostResource(Exception e) => e is RequestFailedException
    {
        Status: 404, ErrorCode: "ContainerNotFound" or "TableNotFound" or "QueueNotFound",
    } or RequestFailedException { Status: 409, ErrorCode: "ContainerBeingDeleted" or "TableBeingDeleted" or "QueueBeingDeleted" };

    /// <summary>
    /// A row, blob or resource already there (409): another request or instance made it first. Not a table, container or
    /// queue still being deleted (409 too), where nothing was made and the write must fail or be tried again.
    /// </summary>
    public static bool IsAlreadyThere(Exception e) => e is RequestFailedException { Status: 409 } && !IsLostResource(e);

    /// <summary>Whether the exception came from storage at all (an outage, or a request of ours that it refused).</summary>
    public static bool IsStorage(Exception e) => e is RequestFailedException || IsOutage(e);
}

/// <summary>Storage did not finish a piece of work within the time the caller could give it (the Azure SDK's own retries may each take their full network timeout).</summary>
public sealed class StorageTimeoutException(string message, Exception? innerException = null) : TimeoutException(message, innerException);
