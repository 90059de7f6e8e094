using Functions.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Functions.Tests.Unit;

public sealed class SurfaceErrorsTests
{
    [Fact]
    public async Task A_client_that_reset_its_connection_mid_body_is_not_logged_as_a_server_error()
    {
        var (context, log) = Context();

        await SurfaceErrors.WriteExceptionAsync(context, new ConnectionResetException("Connection reset by peer"));

        Assert.Equal(StatusCodes.Status499ClientClosedRequest, context.Response.StatusCode);
        Assert.Equal(0, context.Response.Body.Length);
        Assert.DoesNotContain(Levels(log), level => level >= LogLevel.Warning);
    }

    public static TheoryData<Exception> ClientGoneFailures => new()
    {
        new IOException("gone"), // the body's read broke off
        new OperationCanceledException("gone"), // the request's token fired
        new RpcException(new Status(StatusCode.Cancelled, "Call canceled by the client.")), // ... during a Durable client call
    };

    [Theory]
    [MemberData(nameof(ClientGoneFailures))]
    public async Task A_failure_after_the_client_went_away_is_answered_to_nobody_and_logged_as_the_clients_doing(Exception thrown)
    {
        var (context, log) = Context();
        context.RequestAborted = new CancellationToken(canceled: true);

        await SurfaceErrors.WriteExceptionAsync(context, thrown);

        Assert.Equal(StatusCodes.Status499ClientClosedRequest, context.Response.StatusCode);
        Assert.Equal(0, context.Response.Body.Length);
        Assert.DoesNotContain(Levels(log), level => level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_failure_while_the_client_is_still_there_is_a_logged_500()
    {
        var (context, log) = Context();

        await SurfaceErrors.WriteExceptionAsync(context, new IOException("a disk that failed"));

        Assert.Equal(StatusCodes.Status500InternalServerError, context.Response.StatusCode);
        Assert.Contains(LogLevel.Error, Levels(log));
    }

    [Fact]
    public async Task A_lost_task_hub_is_a_503_that_says_it_is_being_made_again()
    {
        var (context, _) = Context();

        await SurfaceErrors.WriteExceptionAsync(context, new RpcException(new Status(StatusCode.Unavailable, "gone"),
            new Metadata { { Functions.Jobs.JobEngineFaults.TaskHubLostTrailer, "true" } }));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Contains("being made again", System.Text.Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()));
        Assert.Equal("5", context.Response.Headers.RetryAfter.ToString()); // the local host makes it again at once
    }

    public static TheoryData<string, Exception, int, string, string?> Errors => new()
    {
        { "/api/images/generate", new Azure.RequestFailedException(503, "Server busy"), 503, "storage_unavailable", "5" },
        { "/api/v1/files", new Azure.RequestFailedException(0, "Connection refused"), 503, "", "5" },
        { "/api/v1/jobs/job_1", new RpcException(new Status(StatusCode.Unavailable, "down")), 503, "", "5" },
        { "/api/images/generate", new RpcException(new Status(StatusCode.DeadlineExceeded, "slow")), 503, "jobs_unavailable", "5" },
        { "/api/images/generate", new Functions.Generation.BudgetBusyException("busy decoding"), 503, "server_busy", "5" },
        { "/api/images/generate", new BadHttpRequestException("Bad chunk size data.", 400), 400, "bad_request", null },
        { "/api/v1/files", new BadHttpRequestException("Bad chunk size data.", 400), 400, "", null },
        { "/api/images/generate", new Azure.RequestFailedException(400, "The table specified does not exist"), 500, "internal_error", null },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task Each_error_answers_its_status_in_its_surfaces_shape_with_Retry_After_only_for_a_passing_outage(
        string path, Exception error, int status, string kioaiCode, string? retryAfter)
    {
        var (context, _) = Context();
        context.Request.Path = path;
        context.Response.Headers.ETag = "\"half-written\""; // what an endpoint had set before it threw

        await SurfaceErrors.WriteExceptionAsync(context, error);

        var body = JsonDocument.Parse(((MemoryStream)context.Response.Body).ToArray()).RootElement;
        Assert.Equal(status, context.Response.StatusCode);
        Assert.Equal(retryAfter, context.Response.Headers.RetryAfter.FirstOrDefault());
        Assert.False(context.Response.Headers.ContainsKey("ETag"));
        if (path.StartsWith("/api/v1/", StringComparison.Ordinal)) Assert.Equal(JsonValueKind.String, body.GetProperty("detail").ValueKind);
        else Assert.Equal(kioaiCode, body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_busy_decode_budget_is_logged_as_load_not_as_an_error()
    {
        var (context, log) = Context();

        await SurfaceErrors.WriteExceptionAsync(context, new Functions.Generation.BudgetBusyException("busy decoding"));

        Assert.Equal(LogLevel.Warning, Levels(log).Max());
    }

    static (DefaultHttpContext Context, FakeLogCollector Log) Context()
    {
        var log = new FakeLogCollector();
        var services = new ServiceCollection().AddLogging(logging => logging.AddProvider(new FakeLoggerProvider(log))).BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "POST";
        context.Request.Path = "/api/images/generate";
        context.Response.Body = new MemoryStream();
        return (context, log);
    }

    static IEnumerable<LogLevel> Levels(FakeLogCollector log) => log.GetSnapshot().Select(record => record.Level);
}
