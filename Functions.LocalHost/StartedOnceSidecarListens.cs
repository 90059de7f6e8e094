namespace Functions.LocalHost;

/// <summary>
/// The Durable worker's hosted service, made and started in the background once the sidecar listens rather than with
/// the host: before that its connections can only be refused, and making it and its first attempts took CPU from the
/// host's own start (see bench/RESULTS.md, "Cold start"). A stop before then cancels the wait and never starts it. As
/// the host does for a background service, a worker that fails stops the application: jobs would otherwise wait for
/// ever on a process that still answers. At a stop, the sidecar drains first (at most <see cref="DrainBound"/>), so
/// that what the worker has finished is delivered before the worker stops. The drain begins as the application begins
/// to stop, not when this service's turn comes: the server stops first, and waits for the requests under way (up to
/// the whole shutdown bound), during which the engine would still take new work and the drain would get no time.
/// </summary>
sealed class StartedOnceSidecarListens(Func<IHostedService> create, SidecarReadiness ready, Func<CancellationToken, Task<bool>> drain,
    WorkerCutOff? cutOff, IHostApplicationLifetime lifetime, ILogger<StartedOnceSidecarListens> logger) : IHostedService, IDisposable
{
    /// <summary>Within <see cref="ListenAddress.ShutdownBound"/>, leaving the worker and the sidecar time to stop.</summary>
    public static readonly TimeSpan DrainBound = TimeSpan.FromSeconds(2.5);

    readonly CancellationTokenSource _stopping = new(); // never disposed: a stop may come after the dispose
    Task _started = Task.CompletedTask;
    volatile IHostedService? _worker;
    Lazy<Task>? _drained;

    /// <summary>Replaces the one hosted service registered since <paramref name="registeredBefore"/> (AddDurableTaskWorker's) with this wrapper, in place.</summary>
    public static void Wrap(IServiceCollection services, int registeredBefore, SidecarReadiness ready)
    {
        var index = Enumerable.Range(registeredBefore, services.Count - registeredBefore)
            .Single(i => services[i].ServiceType == typeof(IHostedService));
        var factory = services[index].ImplementationFactory
            ?? throw new InvalidOperationException("The Durable worker's hosted service is no longer registered through a factory.");
        services[index] = ServiceDescriptor.Singleton<IHostedService>(provider => new StartedOnceSidecarListens(
            () => (IHostedService)factory(provider), ready, DrainOf(provider.GetService<DurableSidecar>()), provider.GetService<WorkerCutOff>(),
            provider.GetRequiredService<IHostApplicationLifetime>(),
            provider.GetRequiredService<ILogger<StartedOnceSidecarListens>>()));
    }

    // Resolved with the wrapper, not at the stop: under WebApplicationFactory the provider may be disposed by then.
    static Func<CancellationToken, Task<bool>> DrainOf(DurableSidecar? sidecar) => token => sidecar?.DrainAsync(token) ?? Task.FromResult(true);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _drained = new(() => Task.Run(DrainOnceAsync));
        lifetime.ApplicationStopping.Register(() => _ = _drained.Value);
        _started = Task.Run(StartWorkerAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    async Task DrainOnceAsync()
    {
        if (_worker is null) return; // not started: nothing runs
        using var bound = new CancellationTokenSource(DrainBound);
        try
        {
            if (!await drain(bound.Token)) cutOff?.Mark();
        }
        catch (ObjectDisposedException) { } // the host was disposed meanwhile (WebApplicationFactory stops and disposes at once): nothing to drain
    }

    async Task StartWorkerAsync()
    {
        if (!ready.WhenStarted.IsCompleted) logger.LogDebug("The Durable worker starts once the sidecar listens");
        await ready.WhenStarted.WaitAsync(_stopping.Token);
        try
        {
            _worker = create();
            // Not the stop's token: a BackgroundService links its stopping token to it, which would cut the worker's
            // stream at the start of a stop, before the drain lets it deliver what it finished.
            await _worker.StartAsync(CancellationToken.None);
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            Failed(e);
            throw;
        }
        if (_worker is BackgroundService { ExecuteTask: { } running }) _ = WatchAsync(running);
    }

    async Task WatchAsync(Task running)
    {
        try
        {
            await running;
        }
        catch (Exception e) when (!_stopping.IsCancellationRequested)
        {
            Failed(e);
        }
    }

    void Failed(Exception e)
    {
        logger.LogCritical(e, "The Durable worker failed: jobs cannot run, so the local host stops");
        lifetime.StopApplication();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await _started.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!_started.IsCompletedSuccessfully)
        {
            return; // never started, failed to (logged), or the stop's own bound passed: nothing to stop
        }
        if (_worker is not { } worker) return; // stopped before it was started at all
        await (_drained ?? new(DrainOnceAsync)).Value; // begun when the application began to stop, bounded from then
        await worker.StopAsync(cancellationToken);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        (_worker as IDisposable)?.Dispose();
    }
}
