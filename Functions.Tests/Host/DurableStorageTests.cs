using Functions.LocalHost;
using Microsoft.Extensions.Configuration;

namespace Functions.Tests.Host;

/// <summary>The local host's DurableTask.AzureStorage settings: what guards two instances sharing a task hub, and how long a step may hold its lock.</summary>
public sealed class DurableStorageTests
{
    static IConfiguration Configuration(params (string Key, string Value)[] settings) => new ConfigurationBuilder()
        .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)).Append(KeyValuePair.Create("AzureWebJobsStorage", (string?)"UseDevelopmentStorage=true")))
        .Build();

    [Fact]
    public void Instance_status_writes_carry_an_etag_so_a_stalled_instance_cannot_overwrite_a_finished_job()
    {
        var settings = DurableStorage.Settings(Configuration(), new HostJson("api", "hub", 4));

        Assert.True(settings.UseInstanceTableEtag);
        Assert.Equal("hub", settings.TaskHubName);
    }

    [Fact]
    public void A_step_may_hold_its_lock_for_the_job_deadline_two_attempts_and_a_minute()
    {
        var longest = DurableStorage.LongestActivity(Configuration(("Upstream:DeadlineSeconds", "300"), ("Upstream:AttemptTimeoutSeconds", "20")));

        Assert.Equal(TimeSpan.FromSeconds(300 + 2 * 20 + 60), longest);
    }
}
