using Functions.Hosting;
using Grpc.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Functions.Tests.Unit;

public sealed class SurfaceErrorsTests
{
    [Fact]
    public void A_job_engine_call_that_could_not_start_is_an_outage_not_an_internal_error()
    {
        // What the gRPC client throws when the local host's sidecar has not started within its wait (storage down).
        var notStarted = new RpcException(new Status(StatusCode.Internal, "Error starting gRPC call.",
            new HttpRequestException(HttpRequestError.ConnectionError, "The Durable backend has not started yet.", new TimeoutException())));

        Assert.True(SurfaceErrors.IsJobEngineOutage(notStarted));
        Assert.True(SurfaceErrors.IsJobEngineOutage(new RpcException(new Status(StatusCode.Unavailable, "down"))));
        // A handler that threw something else is a bug in the engine (the sidecar reports its storage outages as Unavailable).
        Assert.False(SurfaceErrors.IsJobEngineOutage(new RpcException(new Status(StatusCode.Unknown, "Exception was thrown by handler."))));
        Assert.False(SurfaceErrors.IsJobEngineOutage(new RpcException(new Status(StatusCode.Internal, "a bug in the engine"))));
    }

    [Fact]
    public async Task A_client_that_reset_its_connection_mid_body_is_not_logged_as_a_server_error()
    {
        var (context, log) = Context();

        await SurfaceErrors.WriteExceptionAsync(context, new ConnectionResetException("Connection reset by peer"));

        Assert.Equal(StatusCodes.Status499ClientClosedRequest, context.Response.StatusCode);
        Assert.Equal(0, context.Response.Body.Length);
        Assert.DoesNotContain(log.Levels, level => level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_failure_while_the_client_is_still_there_is_a_logged_500()
    {
        var (context, log) = Context();

        await SurfaceErrors.WriteExceptionAsync(context, new IOException("a disk that failed"));

        Assert.Equal(StatusCodes.Status500InternalServerError, context.Response.StatusCode);
        Assert.Contains(LogLevel.Error, log.Levels);
    }

    [Fact]
    public async Task A_lost_task_hub_is_a_503_that_says_a_restart_makes_it_again()
    {
        var (context, _) = Context();

        await SurfaceErrors.WriteExceptionAsync(context, new RpcException(new Status(StatusCode.Unavailable, "gone"),
            new Metadata { { SurfaceErrors.TaskHubLostTrailer, "true" } }));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        Assert.Contains("restarts", System.Text.Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()));
        Assert.False(context.Response.Headers.ContainsKey("Retry-After")); // trying again soon would not help
    }

    static (DefaultHttpContext Context, RecordingLogs Log) Context()
    {
        var log = new RecordingLogs();
        var services = new ServiceCollection().AddLogging(logging => logging.AddProvider(log)).BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "POST";
        context.Request.Path = "/api/images/generate";
        context.Response.Body = new MemoryStream();
        return (context, log);
    }

    sealed class RecordingLogs : ILoggerProvider, ILogger
    {
        public List<LogLevel> Levels { get; } = [];
        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Levels.Add(logLevel);
        public void Dispose() { }
    }
}
