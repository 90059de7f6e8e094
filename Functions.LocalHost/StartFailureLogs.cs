namespace Functions.LocalHost;

/// <summary>
/// The console's loggers, without the host's "Hosting failed to start" stack where nothing is left to explain: an
/// address the server cannot listen on (Program says so in one line, "The app cannot listen: …") and a start that a
/// stop cut short (a SIGTERM as the Durable sidecar's own host was binding its port).
/// </summary>
[ProviderAlias("Console")] // the Logging:Console settings still apply to it
sealed class StartFailureLogs(ILoggerProvider console) : ILoggerProvider, ISupportExternalScope
{
    /// <summary>The category of the host's own entries (Microsoft.Extensions.Hosting's Host).</summary>
    const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    /// <summary>The host's "Hosting failed to start" (its HostedServiceStartupFaulted); its other entries all stay.</summary>
    const int StartFailed = 11;

    public ILogger CreateLogger(string categoryName)
    {
        var logger = console.CreateLogger(categoryName);
        return categoryName == HostCategory ? new WithoutExplainedFailures(logger) : logger;
    }

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => (console as ISupportExternalScope)?.SetScopeProvider(scopeProvider);

    public void Dispose() => console.Dispose();

    static bool Explained(EventId eventId, Exception? exception) =>
        eventId.Id == StartFailed && (ListenAddress.IsBindFailure(exception) || exception is OperationCanceledException);

    sealed class WithoutExplainedFailures(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!Explained(eventId, exception)) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
