using Functions.LocalHost;
using Microsoft.Extensions.Configuration;

namespace Functions.Tests.Host;

/// <summary>The host.json settings the local host honours, read from files other than the shipped one.</summary>
public sealed class HostJsonTests
{
    static HostJson Read(string json)
    {
        var directory = Directory.CreateTempSubdirectory("hostjson");
        try
        {
            var path = Path.Combine(directory.FullName, "host.json");
            File.WriteAllText(path, json);
            return HostJson.Load(path);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_host_json_without_the_sections_gives_the_defaults_the_Functions_host_has_locally()
    {
        Assert.Equal(new HostJson("api", "TestHubName", 4), Read("""{ "version": "2.0" }"""));
    }

    [Fact]
    public void Each_setting_is_read_into_its_own_place_and_the_route_prefix_without_its_slashes()
    {
        var host = Read("""
            {
              "version": "2.0", // comments are allowed, as the Functions host allows them
              "extensions": {
                "http": { "routePrefix": "/api/" },
                "durableTask": {
                  "hubName": "OtherJobs",
                  "storageProvider": { "partitionCount": 6, "useInstanceTableEtag": true },
                  "maxConcurrentActivityFunctions": 3,
                  "maxConcurrentOrchestratorFunctions": 5
                }
              }
            }
            """);

        Assert.Equal(new HostJson("api", "OtherJobs", 6, UseInstanceTableEtag: true, MaxConcurrentActivities: 3, MaxConcurrentOrchestrations: 5), host);
    }

    [Fact]
    public void The_shipped_function_timeout_outlasts_the_longest_step_of_a_job_with_the_default_settings()
    {
        // On Azure an activity that passes functionTimeout is cut off and the worker restarts, taking every request with it.
        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "host.json")));
        var timeout = TimeSpan.Parse(hostJson.RootElement.GetProperty("functionTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(DurableStorage.LongestActivity(new ConfigurationBuilder().Build()) < timeout);
    }
}
