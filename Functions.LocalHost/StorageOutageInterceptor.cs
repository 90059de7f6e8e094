using Functions.Jobs;
using Functions.Storage;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Functions.LocalHost;

/// <summary>
/// Reports the engine's storage outages to the Durable client as Unavailable. gRPC answers Unknown for any exception a
/// handler throws, so without this a task hub whose storage refuses connections could not be told from a bug in the
/// engine: the app answers 503 for the first and 500 for the second (SurfaceErrors). A task hub whose tables or queues
/// are gone is marked so (<see cref="JobEngineFaults.TaskHubLostTrailer"/>): nothing asked of it was done, and it is made
/// again (<see cref="TaskHubRepair"/>).
/// </summary>
sealed class StorageOutageInterceptor(TaskHubRepair repair) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (Any(e, StorageFaults.IsLostResource))
        {
            repair.Begin();
            throw new RpcException(new Status(StatusCode.Unavailable, "The task hub's tables or queues are gone; they are being made again."),
                new Metadata { { JobEngineFaults.TaskHubLostTrailer, "true" } });
        }
        catch (Exception e) when (IsStorageOutage(e))
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The task hub's storage is not reachable right now."));
        }
    }

    public static bool IsStorageOutage(Exception? error) => Any(error, StorageFaults.IsOutage);

    // DurableTask.AzureStorage wraps the storage SDK's exceptions in its own.
    static bool Any(Exception? error, Func<Exception, bool> test)
    {
        for (; error is not null; error = error.InnerException)
            if (test(error)) return true;
        return false;
    }
}
