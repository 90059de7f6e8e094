using Azure;

namespace Functions.Storage;

/// <summary>How a failed storage call reads to a client: never with the storage's own error text (it names our tables and keys).</summary>
public static class StorageFaults
{
    /// <summary>
    /// Storage gave no answer (connection refused, timeouts) or answered with its own fault (5xx), after the clients'
    /// retries: the request may succeed later. Azure.Core reports retries that ran out as an AggregateException.
    /// </summary>
    public static bool IsOutage(Exception e) => e switch
    {
        RequestFailedException failed => failed.Status == 0 || failed.Status >= 500,
        AggregateException retries => retries.InnerExceptions.Count > 0
                                      && retries.InnerExceptions.All(inner => inner is OperationCanceledException || IsOutage(inner)),
        _ => false,
    };

    /// <summary>Storage answered that it will not take a request of ours (a 4xx): sending it again would not help.</summary>
    public static bool IsRefusal(Exception e) => e is RequestFailedException { Status: >= 400 and < 500 };

    /// <summary>Whether the exception came from storage at all (an outage, or a request of ours that it refused).</summary>
    public static bool IsStorage(Exception e) => e is RequestFailedException || IsOutage(e);

    /// <summary>What a client may read about a failure: the exception's message, unless it is storage's.</summary>
    public static string PublicMessage(Exception e) => IsStorage(e)
        ? (IsOutage(e) ? "Storage is not reachable right now." : "Storage refused a request of the service.")
        : e.Message;
}
