using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Grpc.Internal;

namespace Functions.LocalHost;

/// <summary>
/// The Durable backend the Functions host would give the app: DurableTask.AzureStorage over AzureWebJobsStorage (the
/// engine and storage layout of the Durable extension), served over the Durable Task gRPC protocol by the
/// <see cref="DurableSidecar"/> on a loopback port, with the app's orchestrators and activities registered on a gRPC
/// worker and a gRPC client for the functions that take <c>[DurableClient]</c>.
/// </summary>
public static class DurableBackend
{
    public static WebApplicationBuilder AddFunctionsApp(this WebApplicationBuilder builder, FunctionCatalog catalog)
    {
        var services = builder.Services;
        services.AddSingleton(catalog);
        // The Durable backend's own storage clients log every request (queue polls included) at Information through
        // Microsoft.Extensions.Azure's event forwarder; DurableTask.AzureStorage reports its storage failures itself.
        builder.Logging.AddFilter("Azure.Core", LogLevel.Error);
        var endpoint = new SidecarEndpoint();
        var ready = new SidecarReadiness();
        var timings = DurableTimings.From(builder.Configuration);
        _ = TimerTriggers.HostIdOf(builder.Configuration, catalog.Host); // checked now: the timers read it in the background
        services.AddSingleton(provider => new DurableSidecar(provider.GetRequiredService<IConfiguration>(), catalog.Host, timings, endpoint, ready,
            provider.GetRequiredService<ILogger<DurableSidecar>>()));
        services.AddHostedService(provider => provider.GetRequiredService<DurableSidecar>());

        // One channel each, so that the worker's reconnect back-off, should its stream break, never holds up the
        // client's calls. The worker starts once the sidecar listens: before, it could only be refused.
        var registered = services.Count;
        services.AddDurableTaskWorker(worker =>
        {
            worker.UseGrpc(options =>
            {
                options.Channel = endpoint.Channel();
                // The sidecar sends no health pings, so an idle stream would be taken for a silently dropped one and
                // reconnected every 2 minutes; on loopback, in one process, a stream cannot die unnoticed.
                options.SetSilentDisconnectTimeout(TimeSpan.Zero);
            });
            worker.AddTasks(registry =>
            {
                foreach (var function in catalog.Orchestrators) registry.AddOrchestrator(function.Name, new FunctionOrchestrator(function));
                foreach (var function in catalog.Activities) registry.AddActivity(function.Name, services => new FunctionActivity(function, services));
            });
        });
        StartedOnceSidecarListens.Wrap(services, registered, ready);
        // The timer functions, each on its schedule; registered after the worker, so that a stop ends them first.
        services.AddHostedService<TimerTriggers>();
        // The client's calls wait for the sidecar (a function that never calls it, such as an inline generation, never
        // waits); its channel is made on first use, off the start's path.
        services.AddDurableTaskClient(client => client.UseGrpc(options => options.Channel = endpoint.Channel(new WaitForSidecarHandler(ready))));
        return builder;
    }

    /// <summary>An orchestrator function as the Durable worker runs it: the static method, given the context.</summary>
    sealed class FunctionOrchestrator(FunctionInfo function) : ITaskOrchestrator
    {
        public Type InputType => function.InputType;
        public Type OutputType => function.OutputType;

        public Task<object?> RunAsync(TaskOrchestrationContext context, object? input) =>
            function.InvokeAsync(EmptyServices.Instance, (_, source) => source switch
            {
                ParameterSource.OrchestrationContext => context,
                ParameterSource.OrchestrationInput => input,
                _ => throw new NotSupportedException($"{source} in an orchestrator"),
            });
    }

    /// <summary>An activity function: a new instance of its class from the worker's services, given its input and the Durable client.</summary>
    sealed class FunctionActivity(FunctionInfo function, IServiceProvider services) : ITaskActivity
    {
        public Type InputType => function.InputType;
        public Type OutputType => function.OutputType;

        public Task<object?> RunAsync(TaskActivityContext context, object? input) =>
            function.InvokeAsync(services, (_, source) => source switch
            {
                ParameterSource.ActivityInput => input,
                ParameterSource.DurableClient => services.GetRequiredService<DurableTaskClient>(),
                ParameterSource.CancellationToken => CancellationToken.None,
                _ => throw new NotSupportedException($"{source} in an activity"),
            });
    }

    sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();
        public object? GetService(Type serviceType) => null;
    }
}
