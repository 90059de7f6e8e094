using Functions.LocalHost;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Functions.Tests.Host;

/// <summary>The console without the host's "Hosting failed to start" stack where Program, or the stop, explains it.</summary>
public sealed class StartFailureLogsTests
{
    const string Host = "Microsoft.Extensions.Hosting.Internal.Host";
    static readonly EventId StartFailed = new(11, "HostedServiceStartupFaulted");

    static IReadOnlyList<FakeLogRecord> Logged(string category, EventId eventId, Exception exception)
    {
        var collector = new FakeLogCollector();
        using var logs = new StartFailureLogs(new FakeLoggerProvider(collector));
        logs.CreateLogger(category).LogError(eventId, exception, "Hosting failed to start");
        return collector.GetSnapshot();
    }

    [Fact]
    public void A_start_that_failed_to_listen_or_that_a_stop_cut_short_is_left_out()
    {
        Assert.Empty(Logged(Host, StartFailed, new IOException("Failed to bind to address http://127.0.0.1:7071: address already in use.",
            new Microsoft.AspNetCore.Connections.AddressInUseException("Address already in use"))));
        Assert.Empty(Logged(Host, StartFailed, new System.Net.Sockets.SocketException(99))); // an address not on this machine
        Assert.Empty(Logged(Host, StartFailed, new TaskCanceledException())); // was: a 10-line stack on a SIGTERM as the sidecar's host bound its port
    }

    [Fact]
    public void Any_other_failure_and_the_hosts_other_entries_stay()
    {
        Assert.Single(Logged(Host, StartFailed, new InvalidOperationException("a hosted service failed")));
        Assert.Single(Logged(Host, StartFailed, new DirectoryNotFoundException("Could not find a part of the path '/x'"))); // an IOException, no bind
        Assert.Single(Logged(Host, new EventId(9, "BackgroundServiceFaulted"), new OperationCanceledException())); // a service that canceled itself
        Assert.Single(Logged("Functions.Generation.GenerateImage", StartFailed, new IOException("disk")));
    }
}
