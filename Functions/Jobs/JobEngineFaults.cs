using Grpc.Core;

namespace Functions.Jobs;

/// <summary>How a failed call to the Durable backend (the Functions host's extension, or the local host's sidecar) reads: its gRPC status, or the mark of a lost task hub.</summary>
public static class JobEngineFaults
{
    /// <summary>The trailer the local host's Durable backend adds when its task hub's tables or queues are gone: it did nothing it was asked.</summary>
    public const string TaskHubLostTrailer = "task-hub-lost";

    public static bool IsTaskHubLost(Exception error) => error is RpcException rpc && rpc.Trailers.Get(TaskHubLostTrailer) is not null;

    /// <summary>A call cut off by its token: a gRPC call (the Durable client's) reports it as an RpcException, not as OperationCanceledException.</summary>
    public static bool IsCancellation(Exception error) => error is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled };

    /// <summary>
    /// The Durable backend did not answer, said it cannot (Unavailable: the local host's sidecar reports its storage
    /// outages so), or the call could not even start (gRPC calls a transport failure before the first byte Internal).
    /// </summary>
    public static bool IsOutage(Exception error) =>
        error is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded } or RpcException { Status.DebugException: HttpRequestException };

    /// <summary>
    /// The engine failed the call: an outage, or an error of its own, which the Durable extension answers Internal (its
    /// "Failed to start instance" wraps any cause) or Unknown where the local host's sidecar says Unavailable. For the
    /// calls whose failure must be taken as "it may have happened" (a schedule) or "do not repeat a paid step" (after a store).
    /// </summary>
    public static bool IsFailure(Exception error) =>
        IsOutage(error) || error is RpcException { StatusCode: StatusCode.Internal or StatusCode.Unknown };
}
