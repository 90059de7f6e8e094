using Functions.LocalHost;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask;

namespace Functions.Tests.Host;

public sealed class FunctionCatalogTests
{
    static readonly HostJson Host = new("api", "Hub", 1);

    public sealed class Bindable
    {
        [Function("Http")]
        public IResult Http([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "things/{id}")] HttpRequest request, string id,
            [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) => Results.Ok();

        [Function("Orchestrator")]
        public static Task<int> Orchestrator([OrchestrationTrigger] TaskOrchestrationContext context, string input) => Task.FromResult(1);

        [Function("Activity")]
        public Task<string> Activity([ActivityTrigger] int input, [DurableClient] DurableTaskClient client) => Task.FromResult("");

        [Function("Timer")]
        public Task Timer([TimerTrigger("0 17 * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken) =>
            Task.CompletedTask;
    }

    public sealed class TimerOnASetting
    {
        [Function("Timer")]
        public void Timer([TimerTrigger("%Sweep:Schedule%")] TimerInfo timer) { }
    }

    public sealed class TimerOnStartup
    {
        [Function("Timer")]
        public void Timer([TimerTrigger("0 17 * * * *", RunOnStartup = true)] TimerInfo timer) { }
    }

    public sealed class TimerWithoutSeconds
    {
        [Function("Timer")]
        public void Timer([TimerTrigger("17 * * * *")] TimerInfo timer) { }
    }

    public sealed class TimerNotNcrontab
    {
        [Function("Timer")]
        public void Timer([TimerTrigger("0 61 * * * *")] TimerInfo timer) { }
    }

    public sealed class UnknownParameter
    {
        [Function("Http")]
        public IResult Http([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "things")] HttpRequest request, FunctionContext context) => Results.Ok();
    }

    public sealed class RouteValueNotInRoute
    {
        [Function("Http")]
        public IResult Http([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "things")] HttpRequest request, string id) => Results.Ok();
    }

    public sealed class OtherTrigger
    {
        [Function("Timer")]
        public void Timer(string schedule) { }
    }

    [Fact]
    public void Every_kind_of_parameter_the_app_uses_binds_and_the_trigger_decides_the_kind()
    {
        var catalog = FunctionCatalog.Of([typeof(Bindable)], Host);

        var http = catalog.Http.Single();
        Assert.Equal("things/{id}", http.Route);
        Assert.Equal(["GET", "HEAD"], http.HttpMethods);
        Assert.Equal([ParameterSource.HttpRequest, ParameterSource.RouteValue, ParameterSource.DurableClient, ParameterSource.CancellationToken],
            http.Parameters);
        Assert.Equal(typeof(string), catalog.Orchestrators.Single().InputType);
        Assert.Equal(typeof(int), catalog.Orchestrators.Single().OutputType);
        Assert.Equal(typeof(int), catalog.Activities.Single().InputType);
        Assert.Equal([ParameterSource.ActivityInput, ParameterSource.DurableClient], catalog.Activities.Single().Parameters);
        var timer = catalog.Timers.Single();
        Assert.Equal([ParameterSource.TimerInfo, ParameterSource.DurableClient, ParameterSource.CancellationToken], timer.Parameters);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 18, 17, 0, TimeSpan.Zero), timer.Schedule!.Next(new DateTimeOffset(2026, 11, 26, 17, 17, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void A_timer_schedule_of_five_fields_is_read_without_seconds()
    {
        var timer = FunctionCatalog.Of([typeof(TimerWithoutSeconds)], Host).Timers.Single();

        Assert.Equal(new DateTimeOffset(2026, 11, 26, 18, 17, 0, TimeSpan.Zero), timer.Schedule!.Next(new DateTimeOffset(2026, 11, 26, 17, 17, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData(typeof(UnknownParameter), "cannot bind parameter 'context'")]
    [InlineData(typeof(RouteValueNotInRoute), "cannot bind parameter 'id'")]
    [InlineData(typeof(OtherTrigger), "a trigger the local host does not run")]
    [InlineData(typeof(TimerOnASetting), "'%Sweep:Schedule%' is not an NCRONTAB schedule the local host runs")]
    [InlineData(typeof(TimerOnStartup), "does not run RunOnStartup timers")]
    [InlineData(typeof(TimerNotNcrontab), "'0 61 * * * *' is not an NCRONTAB schedule")]
    public void A_function_the_local_host_cannot_run_fails_at_startup(Type functions, string reason)
    {
        var error = Assert.Throws<NotSupportedException>(() => FunctionCatalog.Of([functions], Host));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void The_app_has_only_functions_the_local_host_can_run()
    {
        var catalog = FunctionCatalog.Of(typeof(Functions.Generation.GenerateImage).Assembly, Host);
        Assert.NotEmpty(catalog.Http);
    }
}
