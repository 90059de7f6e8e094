using Azure;
using Functions.LocalHost;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Functions.Tests.Host;

public sealed class StorageOutageInterceptorTests
{
    int _hubsMade;

    Task<string> Call(Exception thrown) =>
        new StorageOutageInterceptor(new TaskHubRepair(() => Task.FromResult(Interlocked.Increment(ref _hubsMade)), NullLogger.Instance))
            .UnaryServerHandler<string, string>("request", null!, (_, _) => throw thrown);

    [Fact]
    public async Task The_engines_storage_refusing_connections_reaches_the_client_as_Unavailable()
    {
        // As DurableTask.AzureStorage throws it: its own exception around the storage SDK's (status 0: no answer).
        var refused = new InvalidOperationException("An error occurred while communicating with Azure Storage",
            new RequestFailedException(0, "Connection refused (127.0.0.1:10002)"));

        var error = await Assert.ThrowsAsync<RpcException>(() => Call(refused));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.DoesNotContain("127.0.0.1", error.Status.Detail);
    }

    [Fact]
    public async Task A_task_hub_whose_tables_are_gone_is_Unavailable_marked_lost_and_made_again()
    {
        var lost = new InvalidOperationException("An error occurred while communicating with Azure Storage",
            new RequestFailedException(404, "The table specified does not exist.", "TableNotFound", null));

        var error = await Assert.ThrowsAsync<RpcException>(() => Call(lost));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.NotNull(error.Trailers.Get(Functions.Jobs.JobEngineFaults.TaskHubLostTrailer));
        await Eventually.HoldsAsync(() => Task.FromResult(Volatile.Read(ref _hubsMade) == 1));
    }

    [Fact]
    public async Task Anything_else_the_engine_throws_stays_what_it_is()
    {
        await Assert.ThrowsAsync<NullReferenceException>(() => Call(new NullReferenceException()));
        await Assert.ThrowsAsync<RequestFailedException>(() => Call(new RequestFailedException(409, "conflict")));
        Assert.Equal(0, _hubsMade);
    }
}
