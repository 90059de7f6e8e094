using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Functions.LocalHost;

/// <summary>How one parameter of a function gets its value.</summary>
public enum ParameterSource { HttpRequest, RouteValue, CancellationToken, DurableClient, OrchestrationContext, OrchestrationInput, ActivityInput, TimerInfo }

/// <summary>One [Function] method: its trigger, its route and methods (HTTP) or schedule (timer), and where each of its parameters comes from.</summary>
public sealed record FunctionInfo(string Name, MethodInfo Method, string Trigger, string? Route, IReadOnlyList<string> HttpMethods,
    IReadOnlyList<ParameterSource> Parameters, TimerSchedule? Schedule = null)
{
    /// <summary>The type of the activity's trigger parameter, or of the orchestrator's input parameter (as the Durable extension binds it).</summary>
    public Type InputType => Method.GetParameters().Zip(Parameters)
        .FirstOrDefault(p => p.Second is ParameterSource.ActivityInput or ParameterSource.OrchestrationInput).First?.ParameterType ?? typeof(object);

    /// <summary>The task's result type (object for a plain Task).</summary>
    public Type OutputType => Method.ReturnType.IsGenericType ? Method.ReturnType.GetGenericArguments()[0] : typeof(object);

    /// <summary>
    /// Runs the function: a new instance of its class per invocation, made as the worker's default activator makes it
    /// (ActivatorUtilities, by reflection: a compiled factory per class cost the start about 20 ms), arguments from <paramref name="argumentFor"/>.
    /// </summary>
    public async Task<object?> InvokeAsync(IServiceProvider services, Func<ParameterInfo, ParameterSource, object?> argumentFor)
    {
        var target = Method.IsStatic ? null : ActivatorUtilities.CreateInstance(services, Method.DeclaringType!);
        var arguments = new object?[Parameters.Count];
        for (var i = 0; i < arguments.Length; i++) arguments[i] = argumentFor(_parameters[i], Parameters[i]);
        var returned = Method.Invoke(target, BindingFlags.DoNotWrapExceptions, null, arguments, null);
        if (returned is not Task task) return returned;
        await task;
        return _result?.GetValue(task);
    }

    // Reflection done once per function, not per invocation.
    readonly ParameterInfo[] _parameters = Method.GetParameters();
    readonly PropertyInfo? _result = Method.ReturnType.IsGenericType ? Method.ReturnType.GetProperty(nameof(Task<object>.Result)) : null;
}

/// <summary>
/// Every function of the app, read from its attributes as the Worker SDK reads them to write functions.metadata. A
/// parameter or trigger the local host cannot bind fails here, at startup, never on a request.
/// </summary>
public sealed record FunctionCatalog(IReadOnlyList<FunctionInfo> Functions, HostJson Host)
{
    public const string HttpTrigger = "httpTrigger";
    public const string OrchestrationTrigger = "orchestrationTrigger";
    public const string ActivityTrigger = "activityTrigger";
    public const string TimerTrigger = "timerTrigger";

    public IEnumerable<FunctionInfo> Http => Functions.Where(f => f.Trigger == HttpTrigger);
    public IEnumerable<FunctionInfo> Orchestrators => Functions.Where(f => f.Trigger == OrchestrationTrigger);
    public IEnumerable<FunctionInfo> Activities => Functions.Where(f => f.Trigger == ActivityTrigger);
    public IEnumerable<FunctionInfo> Timers => Functions.Where(f => f.Trigger == TimerTrigger);

    public static FunctionCatalog Of(Assembly assembly, HostJson host) => Of(assembly.GetExportedTypes(), host);

    public static FunctionCatalog Of(IEnumerable<Type> types, HostJson host) => new(
        [.. types
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null)
            .Select(Describe)
            .OrderBy(f => f.Name, StringComparer.Ordinal)],
        host);

    static FunctionInfo Describe(MethodInfo method)
    {
        var name = method.GetCustomAttribute<FunctionAttribute>()!.Name;
        var http = method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null);
        var routeNames = http?.Route is { } route ? RouteParameters(route) : [];
        var timer = method.GetParameters().Select(p => p.GetCustomAttribute<TimerTriggerAttribute>()).FirstOrDefault(a => a is not null);
        var trigger = http is not null ? HttpTrigger
            : method.GetParameters().Any(p => p.GetCustomAttribute<OrchestrationTriggerAttribute>() is not null) ? OrchestrationTrigger
            : method.GetParameters().Any(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null) ? ActivityTrigger
            : timer is not null ? TimerTrigger
            : throw new NotSupportedException($"Function {name} has a trigger the local host does not run.");
        var sources = method.GetParameters().Select(p => SourceOf(name, trigger, p, routeNames)).ToList();
        return new FunctionInfo(name, method, trigger, http?.Route, [.. (http?.Methods ?? []).Select(m => m.ToUpperInvariant())], sources,
            timer is null ? null : TimerSchedule.Of(name, timer));
    }

    static ParameterSource SourceOf(string function, string trigger, ParameterInfo p, IReadOnlySet<string> routeNames) => p switch
    {
        _ when p.GetCustomAttribute<HttpTriggerAttribute>() is not null && p.ParameterType == typeof(HttpRequest) => ParameterSource.HttpRequest,
        _ when p.GetCustomAttribute<OrchestrationTriggerAttribute>() is not null && p.ParameterType == typeof(TaskOrchestrationContext) =>
            ParameterSource.OrchestrationContext,
        _ when p.GetCustomAttribute<ActivityTriggerAttribute>() is not null => ParameterSource.ActivityInput,
        _ when p.GetCustomAttribute<TimerTriggerAttribute>() is not null && p.ParameterType == typeof(TimerInfo) => ParameterSource.TimerInfo,
        _ when p.GetCustomAttribute<DurableClientAttribute>() is not null && p.ParameterType == typeof(DurableTaskClient) => ParameterSource.DurableClient,
        _ when p.ParameterType == typeof(CancellationToken) => ParameterSource.CancellationToken,
        _ when p.ParameterType == typeof(string) && routeNames.Contains(p.Name!) => ParameterSource.RouteValue,
        // The Durable extension binds an orchestrator's one unattributed parameter to the orchestration's input.
        _ when trigger == OrchestrationTrigger && !p.GetCustomAttributes().Any() => ParameterSource.OrchestrationInput,
        _ => throw new NotSupportedException($"Function {function}: the local host cannot bind parameter '{p.Name}' ({p.ParameterType.Name})."),
    };

    static HashSet<string> RouteParameters(string route) =>
        [.. Microsoft.AspNetCore.Routing.Patterns.RoutePatternFactory.Parse(route).Parameters.Select(p => p.Name)];
}
