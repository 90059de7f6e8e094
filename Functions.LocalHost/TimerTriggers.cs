using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Functions.LocalHost;

/// <summary>
/// Runs every timer function on its schedule, as the Functions host's timer trigger does, but without its schedule
/// monitor or its singleton lock: an occurrence missed while the process was down is not caught up, and each local-host
/// process runs its own timers, so a timer function must be safe to run twice at once (the app's orphan sweep is). The
/// host's setting <c>AzureWebJobs.{name}.Disabled</c> = true turns one off here too.
/// </summary>
public sealed class TimerTriggers(FunctionCatalog catalog, IServiceProvider services, IConfiguration configuration, TimeProvider clock,
    ILogger<TimerTriggers> logger) : BackgroundService
{
    // A timer can wait at most about 49 days at once; a schedule's next occurrence may be further away (29 February).
    static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(catalog.Timers.Where(IsEnabled).Select(f => RunAsync(f, stoppingToken)));

    bool IsEnabled(FunctionInfo function)
    {
        var disabled = configuration[$"AzureWebJobs.{function.Name}.Disabled"] ?? configuration[$"AzureWebJobs:{function.Name}:Disabled"];
        if (!bool.TryParse(disabled, out var off) || !off) return true;
        logger.LogInformation("The timer function {Function} is disabled (AzureWebJobs.{Function}.Disabled)", function.Name, function.Name);
        return false;
    }

    async Task RunAsync(FunctionInfo function, CancellationToken stopping)
    {
        var schedule = function.Schedule!;
        DateTimeOffset? last = null;
        try
        {
            while (true)
            {
                // After the last occurrence too: a timer that fires a little early must not run that occurrence twice.
                var now = clock.GetUtcNow();
                var due = schedule.Next(last > now ? last.Value : now);
                for (var wait = due - now; wait > TimeSpan.Zero; wait = due - clock.GetUtcNow())
                    await Task.Delay(wait < LongestWait ? wait : LongestWait, clock, stopping);
                await InvokeAsync(function, new TimerInfo
                {
                    ScheduleStatus = new ScheduleStatus { Last = last?.UtcDateTime ?? default, Next = schedule.Next(due).UtcDateTime, LastUpdated = due.UtcDateTime },
                }, stopping);
                last = due;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    async Task InvokeAsync(FunctionInfo function, TimerInfo timer, CancellationToken stopping)
    {
        try
        {
            await function.InvokeAsync(services, (_, source) => source switch
            {
                ParameterSource.TimerInfo => timer,
                ParameterSource.DurableClient => services.GetRequiredService<DurableTaskClient>(),
                ParameterSource.CancellationToken => stopping,
                _ => throw new NotSupportedException($"{source} in a timer function"),
            });
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            logger.LogError(e, "The timer function {Function} failed; it runs again at its next occurrence", function.Name);
        }
    }
}
