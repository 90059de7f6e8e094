using Azure;
using Functions.LocalHost;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Functions.Tests.Host;

public sealed class SidecarOutageLogsTests
{
    readonly FakeLogCollector _logs = new();

    ILogger Logger(string category)
    {
        var factory = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Debug).AddProvider(new FakeLoggerProvider(_logs)));
        return new SidecarOutageLogs(factory).CreateLogger(category);
    }

    // As DurableTask.AzureStorage throws it: its own exception around the storage SDK's (status 0: no answer).
    static readonly Exception Refused = new InvalidOperationException("An error occurred while communicating with Azure Storage",
        new RequestFailedException(0, "Connection refused (127.0.0.1:10002)"));

    [Fact]
    public void A_client_call_that_storage_failed_is_logged_at_debug_the_app_logs_the_outage_itself()
    {
        Logger(SidecarOutageLogs.Category).LogError(Refused, "An error occurred when trying to create a new instance");

        Assert.Equal(LogLevel.Debug, _logs.LatestRecord.Level); // was Error, with the stack
        Assert.Same(Refused, _logs.LatestRecord.Exception);
    }

    [Fact]
    public void Any_other_failure_and_any_other_category_keep_their_level()
    {
        Logger(SidecarOutageLogs.Category).LogError(new NullReferenceException(), "An error occurred when trying to terminate an instance.");
        Logger(SidecarOutageLogs.Category).LogError("Dispatching a work item failed: {Details}", Refused.ToString()); // the dispatcher's: a text, no exception
        Logger(SidecarOutageLogs.Category).LogWarning(new RequestFailedException(409, "conflict"), "Orchestration already exists");

        Assert.Equal([LogLevel.Error, LogLevel.Error, LogLevel.Warning], _logs.GetSnapshot().Select(r => r.Level));
    }
}
