using Functions.Jobs;
using Grpc.Core;

namespace Functions.Tests.Unit;

public sealed class JobEngineFaultsTests
{
    [Fact]
    public void A_job_engine_call_that_could_not_start_is_an_outage_not_an_internal_error()
    {
        // What the gRPC client throws when the local host's sidecar has not started within its wait (storage down).
        var notStarted = new RpcException(new Status(StatusCode.Internal, "Error starting gRPC call.",
            new HttpRequestException(HttpRequestError.ConnectionError, "The Durable backend has not started yet.", new TimeoutException())));

        Assert.True(JobEngineFaults.IsOutage(notStarted));
        Assert.True(JobEngineFaults.IsOutage(new RpcException(new Status(StatusCode.Unavailable, "down"))));
        // A handler that threw something else is a bug in the engine (the sidecar reports its storage outages as Unavailable).
        Assert.False(JobEngineFaults.IsOutage(new RpcException(new Status(StatusCode.Unknown, "Exception was thrown by handler."))));
        Assert.False(JobEngineFaults.IsOutage(new RpcException(new Status(StatusCode.Internal, "a bug in the engine"))));
    }
}
