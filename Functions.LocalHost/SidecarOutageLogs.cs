namespace Functions.LocalHost;

/// <summary>
/// The sidecar's loggers, with one change: a client call (start, raise, terminate) that storage failed is logged by
/// the sidecar at Error with the whole stack, and the app already logs that outage as one Warning line per request
/// (README "Logs"); such entries go down to Debug. Anything else it logs stays as it is.
/// </summary>
sealed class SidecarOutageLogs(ILoggerFactory inner) : ILoggerFactory
{
    /// <summary>The category the sidecar's client calls log under (TaskHubGrpcServer).</summary>
    public const string Category = "Microsoft.DurableTask.Sidecar";

    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return categoryName == Category ? new OutagesAtDebug(logger) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() { } // the sidecar's host owns the inner factory

    sealed class OutagesAtDebug(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel > LogLevel.Debug && StorageOutageInterceptor.IsStorageOutage(exception)) logLevel = LogLevel.Debug;
            if (inner.IsEnabled(logLevel)) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
