using Azure.Storage.Blobs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Functions.LocalHost;

/// <summary>
/// Runs every timer function on its schedule, as the Functions host's timer trigger does, in the one process of the app
/// that holds the function's <see cref="ListenerLock"/> (the host's singleton listener lock), but without its schedule
/// monitor: an occurrence missed while no process ran the timer is not caught up. The host's setting
/// <c>AzureWebJobs.{name}.Disabled</c> = true (or 1) turns one off here too, and <c>AzureFunctionsWebHost:hostid</c> names
/// the app in its locks (else the task hub does).
/// </summary>
public sealed class TimerTriggers(FunctionCatalog catalog, IServiceProvider services, IConfiguration configuration, TimeProvider clock,
    ILogger<TimerTriggers> logger) : BackgroundService
{
    // A timer can wait at most about 49 days at once; a schedule's next occurrence may be further away (29 February).
    static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var hostId = HostIdOf(configuration, catalog.Host);
        // Not a constructor parameter: the host makes its hosted services on its start path, and ExecuteAsync runs on the pool.
        var blobs = services.GetRequiredService<BlobServiceClient>();
        return Task.WhenAll(catalog.Timers.Where(IsEnabled)
            .Select(f => new ListenerLock(blobs, hostId, f.Name, logger).HoldAsync(held => RunAsync(f, held), stoppingToken)));
    }

    /// <summary>
    /// The app's id in its timer locks: <c>AzureFunctionsWebHost:hostid</c>, else the task hub's name, lower-cased; one
    /// the Functions host would refuse (1 to 32 letters, digits and single dashes, no dash at either end) stops the
    /// start here too. Read when the host is built, so that it does.
    /// </summary>
    public static string HostIdOf(IConfiguration configuration, HostJson host)
    {
        var configured = configuration["AzureFunctionsWebHost:hostid"];
        var hostId = (string.IsNullOrWhiteSpace(configured) ? host.HubName : configured.Trim()).ToLowerInvariant();
        if (hostId.Length is < 1 or > 32 || !hostId.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            || hostId.StartsWith('-') || hostId.EndsWith('-') || hostId.Contains("--"))
            throw new InvalidOperationException("AzureFunctionsWebHost:hostid must be 1 to 32 letters, digits and single dashes, with no dash at either end.");
        return hostId;
    }

    // As the WebJobs SDK reads it (IsSettingEnabled): "1" or "true" in any case turns a function off, any other value not.
    bool IsEnabled(FunctionInfo function)
    {
        var disabled = configuration[$"AzureWebJobs.{function.Name}.Disabled"] ?? configuration[$"AzureWebJobs:{function.Name}:Disabled"];
        if (disabled is not null && (disabled == "1" || disabled.Equals("true", StringComparison.OrdinalIgnoreCase)))
        {
            logger.LogInformation("The timer function {Function} is disabled (AzureWebJobs.{Function}.Disabled)", function.Name, function.Name);
            return false;
        }
        if (!string.IsNullOrEmpty(disabled) && disabled != "0" && !disabled.Equals("false", StringComparison.OrdinalIgnoreCase))
            logger.LogWarning("AzureWebJobs.{Function}.Disabled is '{Value}', neither true nor 1 (nor false nor 0): the timer function stays on",
                function.Name, disabled);
        return true;
    }

    // Until the lock is lost or the host stops (held is canceled then, and with it a run under way).
    async Task RunAsync(FunctionInfo function, CancellationToken held)
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
                    await Task.Delay(wait < LongestWait ? wait : LongestWait, clock, held);
                await InvokeAsync(function, new TimerInfo
                {
                    ScheduleStatus = new ScheduleStatus { Last = last?.UtcDateTime ?? default, Next = schedule.Next(due).UtcDateTime, LastUpdated = due.UtcDateTime },
                }, held);
                last = due;
            }
        }
        catch (OperationCanceledException) when (held.IsCancellationRequested)
        {
        }
    }

    async Task InvokeAsync(FunctionInfo function, TimerInfo timer, CancellationToken held)
    {
        try
        {
            await function.InvokeAsync(services, (_, source) => source switch
            {
                ParameterSource.TimerInfo => timer,
                ParameterSource.DurableClient => services.GetRequiredService<DurableTaskClient>(),
                ParameterSource.CancellationToken => held,
                _ => throw new NotSupportedException($"{source} in a timer function"),
            });
        }
        catch (Exception e) when (!held.IsCancellationRequested)
        {
            logger.LogError(e, "The timer function {Function} failed; it runs again at its next occurrence", function.Name);
        }
        catch (Exception e)
        {
            // Cut off by the lost lock or the stop, said either way (a sweep or purge may have done part of its work); a
            // canceled call may surface as another exception (a gRPC call's RpcException), which must not fail the loop:
            // a failed background service stops the whole host.
            logger.LogWarning("The timer function {Function} was cut off ({Reason}); it runs again at its next occurrence", function.Name, e.Message);
        }
    }
}
