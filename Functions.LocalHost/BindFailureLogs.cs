using Microsoft.Extensions.Logging.Console;

namespace Functions.LocalHost;

/// <summary>
/// The console's loggers, with one entry left out: the host's "Hosting failed to start" for an address the server
/// cannot listen on, a 25-line stack for what Program reports in one line ("The app cannot listen: …").
/// </summary>
[ProviderAlias("Console")] // the Logging:Console settings still apply to it
sealed class BindFailureLogs(ConsoleLoggerProvider console) : ILoggerProvider, ISupportExternalScope
{
    /// <summary>The category of the host's own entries (Microsoft.Extensions.Hosting's Host).</summary>
    const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    public ILogger CreateLogger(string categoryName)
    {
        var logger = console.CreateLogger(categoryName);
        return categoryName == HostCategory ? new WithoutBindFailures(logger) : logger;
    }

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => console.SetScopeProvider(scopeProvider);

    public void Dispose() => console.Dispose();

    sealed class WithoutBindFailures(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!ListenAddress.IsBindFailure(exception)) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
