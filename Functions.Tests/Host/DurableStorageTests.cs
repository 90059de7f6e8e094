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
    public void The_local_host_writes_instance_status_rows_under_their_ETag_as_the_shipped_host_json_asks_of_the_extension()
    {
        var shipped = HostJson.Load(Path.Combine(RepositoryRoot.Path, "host.json"));

        Assert.True(shipped.UseInstanceTableEtag); // the Durable extension reads the same storageProvider setting
        Assert.True(DurableStorage.Settings(Configuration(), shipped, DurableTimings.From(Configuration())).UseInstanceTableEtag);
        Assert.False(DurableStorage.Settings(Configuration(), shipped with { UseInstanceTableEtag = false }, DurableTimings.From(Configuration())).UseInstanceTableEtag);
    }

    [Fact]
    public void The_local_host_runs_as_many_activities_and_orchestrations_at_once_as_the_shipped_host_json_says()
    {
        var shipped = HostJson.Load(Path.Combine(RepositoryRoot.Path, "host.json"));
        var settings = DurableStorage.Settings(Configuration(), shipped, DurableTimings.From(Configuration()));

        Assert.Equal(16, settings.MaxConcurrentTaskActivityWorkItems);
        Assert.Equal(16, settings.MaxConcurrentTaskOrchestrationWorkItems);
    }

    [Fact]
    public void A_DurableTask_timing_that_is_no_number_is_refused_and_a_number_is_taken()
    {
        Assert.ThrowsAny<InvalidOperationException>(() => DurableTimings.From(Configuration(("DurableTask:LeaseSeconds", "abc"))));
        Assert.Equal(TimeSpan.FromSeconds(6), DurableTimings.From(Configuration(("DurableTask:LeaseSeconds", "6"))).Lease);
    }

    [Theory]
    [InlineData("DurableTask:VisibilityTimeoutSeconds", "-1", "DurableTask:VisibilityTimeoutSeconds must be 1 to 604800")] // jobs stayed queued
    [InlineData("DurableTask:VisibilityTimeoutSeconds", "0.5", "DurableTask:VisibilityTimeoutSeconds must be 1 to 604800")]
    [InlineData("DurableTask:MaxQueuePollingIntervalSeconds", "0", "DurableTask:MaxQueuePollingIntervalSeconds must be 0.1 to 600")] // polls without a pause
    [InlineData("DurableTask:LeaseSeconds", "NaN", "DurableTask:LeaseSeconds must be 1 to 600")]
    [InlineData("DurableTask:HubName", "bad name!", "DurableTask:HubName must be 3 to 45 letters and digits")] // jobs 503 for ever
    [InlineData("DurableTask:HubName", "ab", "DurableTask:HubName must be 3 to 45 letters and digits")]
    [InlineData("DurableTask:HubName", "1hub", "the first a letter")]
    public void A_DurableTask_setting_out_of_its_range_stops_the_start_naming_it(string key, string value, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => DurableTimings.From(Configuration((key, value))));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_blank_DurableTask_setting_is_its_default()
    {
        var timings = DurableTimings.From(Configuration(("DurableTask:HubName", " "), ("DurableTask:LeaseSeconds", "")));

        Assert.Equal((null, TimeSpan.FromSeconds(15)), (timings.HubName, timings.Lease));
    }

    [Fact]
    public void A_step_may_hold_its_lock_for_the_job_deadline_two_attempts_and_a_minute()
    {
        var longest = DurableStorage.LongestActivity(Configuration(("Upstream:DeadlineSeconds", "300"), ("Upstream:AttemptTimeoutSeconds", "20")));

        Assert.Equal(TimeSpan.FromSeconds(300 + 2 * 20 + 60), longest);
    }
}
