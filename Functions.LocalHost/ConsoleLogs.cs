using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging.Console;

namespace Functions.LocalHost;

/// <summary>The console log of the local host and of its Durable sidecar, in one form.</summary>
static class ConsoleLogs
{
    /// <summary>
    /// Each line stamped with its UTC time and, when a request led to it, the request's path and id (its answer's
    /// X-Request-Id), to set beside a client's report; the Durable Task framework's per-step lines (6 to 8 a job) only
    /// from warnings up, as the app logs each job's end itself, and without its errors once the stop cut the worker off.
    /// </summary>
    public static ILoggingBuilder UseLocalHostConsole(this ILoggingBuilder logging)
    {
        var cutOff = new WorkerCutOff();
        logging.Services.AddSingleton(cutOff);
        return logging
            .Configure(factory => factory.ActivityTrackingOptions = ActivityTrackingOptions.None) // no trace and span ids: nothing exports them
            .AddSimpleConsole(console =>
            {
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                console.UseUtcTimestamp = true;
                console.IncludeScopes = true; // ASP.NET Core's request scope: "=> ConnectionId:… => RequestPath:… RequestId:…"
            })
            .NamedFormatterFirst()
            .ReplaceConsoleWith(console => new StartFailureLogs(console))
            .AddFilter("Microsoft.DurableTask", level => level >= LogLevel.Warning && !(level == LogLevel.Error && cutOff.Happened));
    }

    /// <summary>A formatter the settings name (<c>Logging:Console:FormatterName</c>, e.g. json) is used: AddSimpleConsole sets its own over it.</summary>
    static ILoggingBuilder NamedFormatterFirst(this ILoggingBuilder logging)
    {
        logging.Services.AddSingleton<IPostConfigureOptions<ConsoleLoggerOptions>, NamedFormatter>();
        return logging;
    }

    sealed class NamedFormatter(IConfiguration? configuration = null) : IPostConfigureOptions<ConsoleLoggerOptions>
    {
        public void PostConfigure(string? name, ConsoleLoggerOptions options)
        {
            if (configuration?["Logging:Console:FormatterName"] is { Length: > 0 } named) options.FormatterName = named;
        }
    }

    /// <summary>
    /// The console provider AddSimpleConsole registered, given to <paramref name="wrap"/>: what logs instead. The last
    /// console registration: an AddConsole after it would add a second provider, and filters name the wrapper's type
    /// (its alias, "Console", still applies).
    /// </summary>
    static ILoggingBuilder ReplaceConsoleWith(this ILoggingBuilder logging, Func<ConsoleLoggerProvider, ILoggerProvider> wrap)
    {
        logging.Services.Remove(logging.Services.Single(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider)));
        logging.Services.AddSingleton(services => wrap(ActivatorUtilities.CreateInstance<ConsoleLoggerProvider>(services)));
        return logging;
    }
}
