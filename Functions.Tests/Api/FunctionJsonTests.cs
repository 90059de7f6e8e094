using System.Text.Json;
using Functions.Jobs;
using Functions.Storage;
using Functions.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Functions.Tests.Api;

public sealed class FunctionJsonTests(AppFixture app) : IClassFixture<AppFixture>
{
    static string TriggersFolder => Path.Combine(RepositoryRoot.Path, "Functions", "Triggers");

    [Fact]
    public void Every_endpoint_has_its_function_json_and_every_function_json_its_endpoint()
    {
        var endpoints = app.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (
                Name: e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName,
                Route: e.RoutePattern.RawText!.TrimStart('/'),
                Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.Select(m => m.ToLowerInvariant()).Order().ToArray() ?? []))
            .ToList();
        Assert.All(endpoints, e => Assert.False(string.IsNullOrEmpty(e.Name), $"endpoint {e.Route} has no name"));

        var functions = Directory.GetDirectories(TriggersFolder).Select(dir =>
        {
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "function.json")));
            var bindings = json.RootElement.GetProperty("bindings").EnumerateArray().Select(b => b.Clone()).ToList();
            if (bindings.Any(b => b.GetProperty("type").GetString() == "queueTrigger"))
            {
                // The host posts each message to /{function name}.
                var queue = Assert.Single(bindings);
                Assert.Equal(("in", ProcessJob.BindingName, StorageNames.JobsQueue, "AzureWebJobsStorage"), (queue.GetProperty("direction").GetString(),
                    queue.GetProperty("name").GetString(), queue.GetProperty("queueName").GetString(), queue.GetProperty("connection").GetString()));
                return (Name: Path.GetFileName(dir), Route: Path.GetFileName(dir), Methods: new[] { "post" });
            }
            var trigger = bindings.Single(b => b.GetProperty("type").GetString() == "httpTrigger");
            Assert.Equal("in", trigger.GetProperty("direction").GetString());
            Assert.Single(bindings, b => b.GetProperty("type").GetString() == "http" && b.GetProperty("direction").GetString() == "out");
            Assert.Equal(2, bindings.Count); // request forwarding needs exactly one http trigger in and one http out
            return (Name: Path.GetFileName(dir), Route: "api/" + trigger.GetProperty("route").GetString(),
                Methods: trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!).Order().ToArray());
        }).ToList();

        Assert.Equal(endpoints.Select(e => e.Name).Order(), functions.Select(f => f.Name).Order());
        foreach (var function in functions)
        {
            var endpoint = endpoints.Single(e => e.Name == function.Name);
            Assert.Equal(endpoint.Route, function.Route);
            Assert.Equal(endpoint.Methods, function.Methods);
        }
    }

    [Fact]
    public void Host_json_runs_the_app_as_a_custom_handler_with_request_forwarding()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "host.json")));
        var handler = json.RootElement.GetProperty("customHandler");

        Assert.Equal("2.0", json.RootElement.GetProperty("version").GetString());
        Assert.Equal("dotnet", handler.GetProperty("description").GetProperty("defaultExecutablePath").GetString());
        Assert.Equal("Functions.dll", handler.GetProperty("description").GetProperty("arguments")[0].GetString());
        Assert.True(handler.GetProperty("enableForwardingHttpRequest").GetBoolean());
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "host.json")), "host.json is copied beside the app");
    }
}
