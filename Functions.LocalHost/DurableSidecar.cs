using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;

namespace Functions.LocalHost;

/// <summary>
/// The gRPC sidecar: its own small web host (HTTP/2 on a loopback port, <see cref="SidecarEndpoint"/>), so that it runs the same whether the local host
/// listens on Kestrel or, in tests, on an in-memory test server. It starts in the background, so that the local host
/// listens (and answers what needs no Durable backend) while the task hub is created; the Durable client's calls wait
/// for it (<see cref="WaitForSidecarHandler"/>). Storage that is not up yet is tried again until it is. Its settings
/// are read then too, off the start's path (see <see cref="DurableStorage"/>).
/// </summary>
public sealed class DurableSidecar(IConfiguration configuration, HostJson hostJson, DurableTimings timings, SidecarEndpoint endpoint,
    SidecarReadiness ready, ILogger<DurableSidecar> logger) : IHostedService, IAsyncDisposable
{
    // A stop and the disposes after it wait for a start under way at most ListenAddress.ShutdownBound in all.
    long _stopDeadline; // Environment.TickCount64 of the first stop or dispose plus that bound; 0 before
    readonly CancellationTokenSource _stopping = new(); // never disposed: a stop may come after the dispose (see StopAsync)
    // Under WebApplicationFactory the app's own Run stops and disposes the host while the factory stops it too.
    readonly SemaphoreSlim _lifecycle = new(1, 1);
    Task _starting = Task.CompletedTask;
    WebApplication? _host;
    SidecarOrchestrationService? _engine;
    bool _disposed;


    public Task StartAsync(CancellationToken cancellationToken)
    {
        _starting = Task.Run(() => StartWithRetriesAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    Task StartWithRetriesAsync(CancellationToken stopping) =>
        StartRetries.RunAsync(() => StartHostAsync(stopping),
            (e, delay) => logger.LogWarning("The Durable backend could not start ({Reason}); trying again in {Delay} s", e.Message, delay.TotalSeconds),
            stopping);

    async Task StartHostAsync(CancellationToken stopping)
    {
        var settings = DurableStorage.Settings(configuration, hostJson, timings);
        var service = new AzureStorageOrchestrationService(settings);
        await service.CreateIfNotExistsAsync();

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(SidecarEndpoint.Unbound, l => l.Protocols = HttpProtocols.Http2));
        builder.Logging.UseLocalHostConsole();
        // Its own "Now listening on" (Microsoft.Hosting.Lifetime) would read as a second address of the service: said below instead.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning)
            .AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning)
            // Its Kestrel finds the service's address (ASPNETCORE_URLS) in the environment too, and warned that it bound its
            // own port instead, which read as the service's port changing.
            .AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Error);
        builder.Services.AddGrpc(grpc => grpc.Interceptors.Add<StorageOutageInterceptor>());
        var engine = new SidecarOrchestrationService(service, settings.WorkItemQueueVisibilityTimeout,
            DurableStorage.LongestActivity(configuration), logger);
        builder.Services.AddSingleton(new TaskHubRepair(() => new AzureStorageOrchestrationService(settings).CreateIfNotExistsAsync(), logger));
        builder.Services.AddSingleton<IOrchestrationService>(engine);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(new NamedInstancesClient(service));
        builder.Services.AddSingleton(services => ActivatorUtilities.CreateInstance<TaskHubGrpcServer>(services,
            new SidecarOutageLogs(services.GetRequiredService<ILoggerFactory>())));
        // Stopped by the local host, in its order (the worker drained first), never by SIGTERM on its own.
        builder.Services.AddSingleton<IHostLifetime, StoppedByTheLocalHost>();
        var host = builder.Build();
        host.MapGrpcService<TaskHubGrpcServer>();
        try
        {
            await host.StartAsync(stopping);
        }
        catch
        {
            await host.DisposeAsync(); // the next attempt builds its own: this one's port and services are let go
            throw;
        }
        _host = host;
        _engine = engine;
        endpoint.Listening(new Uri(host.Urls.Single()).Port);
        logger.LogInformation("The Durable backend's gRPC sidecar listens on {Url}, for this process's own job worker and client only", host.Urls.Single());
        ready.Started();
    }

    /// <summary>Lets the work under way be completed and takes no more (<see cref="SidecarOrchestrationService.DrainAsync"/>); before the worker stops.</summary>
    public Task<bool> DrainAsync(CancellationToken cancellationToken) => _engine?.DrainAsync(cancellationToken) ?? Task.FromResult(true);

    // Stopping the sidecar's host stops its dispatchers and the engine (see SidecarOrchestrationService).
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await WaitForStartAsync(cancellationToken);
        try
        {
            // Taken at once when free, even once the shutdown bound has passed (a wait on a canceled token never is).
            if (!_lifecycle.Wait(0)) await _lifecycle.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("The Durable backend was still stopping or being disposed when the shutdown bound passed");
            return;
        }
        try
        {
            // First let go of the running activities' locks: the sidecar's own stop waits for activities it may have lost.
            if (_engine is not null) await _engine.LetGoOfActivitiesAsync(cancellationToken);
            if (!_disposed && _host is not null) await _host.StopAsync(cancellationToken);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    // A start still under way (storage may hang it: the task hub's creation takes no token) is waited for at most until
    // the shutdown bound counted from the first stop or dispose, however it ends: the DI container disposes this twice
    // (as itself and as a hosted service), after the stop, and each wait used to take the whole bound again.
    async Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        using var left = LeftOfStop(cancellationToken);
        try { await _starting.WaitAsync(left.Token); }
        catch (Exception e) { logger.LogDebug("The Durable backend's start ended with the stop: {Reason}", e.Message); }
    }

    CancellationTokenSource LeftOfStop(CancellationToken cancellationToken)
    {
        Interlocked.CompareExchange(ref _stopDeadline, Environment.TickCount64 + (long)ListenAddress.ShutdownBound.TotalMilliseconds, 0);
        var left = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        left.CancelAfter(TimeSpan.FromMilliseconds(Math.Max(0, Interlocked.Read(ref _stopDeadline) - Environment.TickCount64)));
        return left;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await WaitForStartAsync(CancellationToken.None);
        await _lifecycle.WaitAsync();
        try
        {
            if (_disposed) return;
            _disposed = true;
            using var left = LeftOfStop(CancellationToken.None);
            if (_engine is not null) await _engine.LetGoOfActivitiesAsync(left.Token);
            if (_host is not null) await _host.DisposeAsync();
        }
        finally
        {
            _lifecycle.Release();
        }
    }
}

/// <summary>The sidecar host's lifetime: no console signals of its own (a SIGTERM would stop it while the worker still delivers).</summary>
sealed class StoppedByTheLocalHost : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Set once the sidecar listens.</summary>
public sealed class SidecarReadiness
{
    readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WhenStarted => _started.Task;

    public void Started() => _started.TrySetResult();
}

/// <summary>
/// The Durable client's HTTP/2 calls (all unary) wait for the sidecar to listen, at most 20 s, and for its answer, at
/// most 30 s (storage that hangs would otherwise hang the request); past either, the call fails as the engine being
/// unavailable (503 to a client, see SurfaceErrors).
/// </summary>
sealed class WaitForSidecarHandler(SidecarReadiness ready, TimeSpan? answerWait = null, TimeSpan? startWait = null) : DelegatingHandler
{
    readonly TimeSpan _startWait = startWait ?? TimeSpan.FromSeconds(20);
    readonly TimeSpan _answerWait = answerWait ?? TimeSpan.FromSeconds(30);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            await ready.WhenStarted.WaitAsync(_startWait, cancellationToken);
        }
        catch (TimeoutException e)
        {
            // gRPC reports it as a call that could not start (Internal), which JobEngineFaults.IsOutage takes for an outage (a 503);
            // a connection error, since nothing was sent (JobSubmitter then knows the job cannot exist).
            throw new HttpRequestException(HttpRequestError.ConnectionError, "The Durable backend has not started yet.", e);
        }
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(_answerWait);
        try
        {
            return await base.SendAsync(request, bounded.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HttpRequestException($"The Durable backend did not answer within {_answerWait.TotalSeconds:0} s.", e);
        }
    }
}
