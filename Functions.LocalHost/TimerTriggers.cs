using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Functions.LocalHost;

/// <summary>
/// Runs every timer function on its schedule, as the Functions host's timer trigger does, but without its schedule
/// monitor or its singleton lock: an occurrence missed while the process was down is not caught up, and each local-host
/// process runs its own timers, so a timer function must be safe to run twice at once (the app's orphan sweep is).
/// </summary>
public sealed class TimerTriggers(FunctionCatalog catalog, IServiceProvider services, TimeProvider clock, ILogger<TimerTriggers> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(catalog.Timers.Select(f => RunAsync(f, stoppingToken)));

    async Task RunAsync(FunctionInfo function, CancellationToken stopping)
    {
        var schedule = function.Schedule!;
        DateTimeOffset? last = null;
        while (!stopping.IsCancellationRequested)
        {
            // After the last occurrence too: a timer that fires a little early must not run that occurrence twice.
            var now = clock.GetUtcNow();
            var due = schedule.Next(last > now ? last.Value : now);
            try
            {
                await Task.Delay(due - now, clock, stopping);
                var timer = new TimerInfo
                {
                    ScheduleStatus = new ScheduleStatus { Last = last?.UtcDateTime ?? default, Next = schedule.Next(due).UtcDateTime, LastUpdated = due.UtcDateTime },
                };
                await function.InvokeAsync(services, (_, source) => source switch
                {
                    ParameterSource.TimerInfo => timer,
                    ParameterSource.DurableClient => services.GetRequiredService<DurableTaskClient>(),
                    ParameterSource.CancellationToken => stopping,
                    _ => throw new NotSupportedException($"{source} in a timer function"),
                });
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "The timer function {Function} failed; it runs again at its next occurrence", function.Name);
            }
            last = due;
        }
    }
}
