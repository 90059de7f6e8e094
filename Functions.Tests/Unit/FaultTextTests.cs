using Azure;
using Functions.Hosting;
using Grpc.Core;

namespace Functions.Tests.Unit;

public sealed class FaultTextTests
{
    const string Timeout = "The operation was cancelled because it exceeded the configured timeout of 0:00:10. Network timeout can be adjusted in ClientOptions.Retry.NetworkTimeout.";

    [Fact]
    public void A_storage_retry_that_ran_out_is_the_count_of_its_tries_and_the_last_one_in_a_sentence()
    {
        var tries = new AggregateException("Retry failed after 3 tries. Retry settings can be adjusted in ClientOptions.Retry or by configuring a custom retry policy.",
            Enumerable.Range(0, 3).Select(_ => new TaskCanceledException(Timeout)));

        Assert.Equal("3 tries, the last: The operation was cancelled because it exceeded the configured timeout of 0:00:10.", FaultText.Of(tries));
    }

    [Fact]
    public void A_storage_refusal_is_its_status_and_code()
    {
        var refused = new RequestFailedException(503, "Service Unavailable\nRequestId:…\nTime:…", "ServerBusy", null);

        Assert.Equal("storage answered 503 ServerBusy", FaultText.Of(refused));
    }

    [Fact]
    public void A_job_engine_fault_is_its_status_and_the_first_sentence_of_its_detail()
    {
        var rpc = new RpcException(new Status(StatusCode.Internal, "Error starting gRPC call. HttpRequestException: The Durable backend did not answer within 30 s.",
            new HttpRequestException("a debug exception with its stack")));

        Assert.Equal("Internal: Error starting gRPC call.", FaultText.Of(rpc));
    }
}
