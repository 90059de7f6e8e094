namespace Functions.LocalHost;

/// <summary>
/// The Durable worker's hosted service, made and started in the background once the sidecar listens rather than with
/// the host: before that its connections can only be refused, and making it and its first attempts took CPU from the
/// host's own start (see bench/RESULTS.md, "Cold start"). A stop before then cancels the wait and never starts it. As
/// the host does for a background service, a worker that fails stops the application: jobs would otherwise wait for
/// ever on a process that still answers.
/// </summary>
sealed class StartedOnceSidecarListens(Func<IHostedService> create, SidecarReadiness ready, IHostApplicationLifetime lifetime,
    ILogger<StartedOnceSidecarListens> logger) : IHostedService, IDisposable
{
    readonly CancellationTokenSource _stopping = new(); // never disposed: a stop may come after the dispose
    Task _started = Task.CompletedTask;
    IHostedService? _worker;

    /// <summary>Replaces the one hosted service registered since <paramref name="registeredBefore"/> (AddDurableTaskWorker's) with this wrapper, in place.</summary>
    public static void Wrap(IServiceCollection services, int registeredBefore, SidecarReadiness ready)
    {
        var index = Enumerable.Range(registeredBefore, services.Count - registeredBefore)
            .Single(i => services[i].ServiceType == typeof(IHostedService));
        var factory = services[index].ImplementationFactory
            ?? throw new InvalidOperationException("The Durable worker's hosted service is no longer registered through a factory.");
        services[index] = ServiceDescriptor.Singleton<IHostedService>(provider => new StartedOnceSidecarListens(
            () => (IHostedService)factory(provider), ready, provider.GetRequiredService<IHostApplicationLifetime>(),
            provider.GetRequiredService<ILogger<StartedOnceSidecarListens>>()));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _started = Task.Run(StartWorkerAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    async Task StartWorkerAsync()
    {
        await ready.WhenStarted.WaitAsync(_stopping.Token);
        try
        {
            _worker = create();
            await _worker.StartAsync(_stopping.Token);
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
        if (_worker is not null) await _worker.StopAsync(cancellationToken); // null: stopped before it was started at all
    }

    public void Dispose()
    {
        _stopping.Cancel();
        (_worker as IDisposable)?.Dispose();
    }
}
