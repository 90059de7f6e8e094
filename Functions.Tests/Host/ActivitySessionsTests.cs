using Functions.LocalHost;

namespace Functions.Tests.Host;

public sealed class ActivitySessionsTests
{
    /// <summary>The local host reads DurableTask.AzureStorage's private table of running activities; an upgrade that moves it must fail here, not in an outage.</summary>
    [Fact]
    public void DurableTask_AzureStorage_keeps_its_running_activities_where_the_local_host_reads_them() =>
        Assert.True(ActivitySessions.AreReachable);
}
