using Functions.LocalHost;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;

namespace Functions.Tests.Host;

/// <summary>
/// The local host starts its Durable worker once the sidecar listens, never with the host, and never after a stop; at a
/// stop the sidecar drains before the worker stops, within a bound.
/// </summary>
public sealed class StartedOnceSidecarListensTests
{
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    static readonly Func<CancellationToken, Task<bool>> NoDrain = _ => Task.FromResult(true);

    [Fact]
    public async Task The_worker_is_made_and_started_only_once_the_sidecar_listens_and_stopped_with_the_host()
    {
        var ready = new SidecarReadiness();
        var worker = new RecordingWorker();
        var made = 0;
        bool? drainedWhileTheWorkerRan = null;
        var cutOff = new WorkerCutOff();
        var logs = new FakeLogCollector();
        using var service = new StartedOnceSidecarListens(() => { made++; return worker; }, ready,
            _ => { drainedWhileTheWorkerRan = !worker.Stopped; return Task.FromResult(true); }, cutOff, new Lifetime(), new FakeLogger<StartedOnceSidecarListens>(logs));

        await service.StartAsync(CancellationToken.None).WaitAsync(Bound);
        // Said as the start in the background begins to wait: a worker made without waiting would be made by now.
        await Eventually.HoldsAsync(() => Task.FromResult(logs.GetSnapshot().Any(r => r.Message.Contains("starts once the sidecar listens"))), Bound);
        Assert.Equal(0, made);

        ready.Started();
        await worker.Started.Task.WaitAsync(Bound);
        Assert.Equal(1, made);

        await service.StopAsync(CancellationToken.None).WaitAsync(Bound);
        Assert.True(worker.Stopped);
        Assert.True(drainedWhileTheWorkerRan);
        Assert.False(cutOff.Happened);
    }

    [Fact]
    public async Task A_drain_that_does_not_end_is_cut_at_its_bound_and_the_worker_still_stops_marked_as_cut_off()
    {
        var ready = new SidecarReadiness();
        var worker = new RecordingWorker();
        var cutOff = new WorkerCutOff();
        using var service = new StartedOnceSidecarListens(() => worker, ready, token => Task.Delay(Timeout.Infinite, token).ContinueWith(_ => false),
            cutOff, new Lifetime(), NullLogger<StartedOnceSidecarListens>.Instance);
        await service.StartAsync(CancellationToken.None);
        ready.Started();
        await worker.Started.Task.WaitAsync(Bound);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await service.StopAsync(CancellationToken.None).WaitAsync(Bound);

        Assert.True(worker.Stopped);
        Assert.True(cutOff.Happened);
        Assert.InRange(clock.Elapsed, StartedOnceSidecarListens.DrainBound - TimeSpan.FromMilliseconds(100), Bound);
    }

    [Fact]
    public async Task A_stop_before_the_sidecar_listens_never_makes_the_worker()
    {
        var ready = new SidecarReadiness();
        var made = 0;
        using var service = new StartedOnceSidecarListens(() => { made++; return new RecordingWorker(); }, ready, NoDrain, null, new Lifetime(),
            NullLogger<StartedOnceSidecarListens>.Instance);

        await service.StartAsync(CancellationToken.None);
        // The stop returns once the start in the background has ended, and only that start makes the worker.
        await service.StopAsync(CancellationToken.None).WaitAsync(Bound);
        ready.Started();

        Assert.Equal(0, made);
    }

    [Fact]
    public async Task A_stop_without_a_start_stops_nothing()
    {
        using var service = new StartedOnceSidecarListens(() => new RecordingWorker(), new SidecarReadiness(), NoDrain, null, new Lifetime(),
            NullLogger<StartedOnceSidecarListens>.Instance);

        await service.StopAsync(CancellationToken.None).WaitAsync(Bound); // the host stops every service it made, started or not
    }

    [Fact]
    public async Task A_worker_that_fails_while_running_stops_the_application()
    {
        var ready = new SidecarReadiness();
        var lifetime = new Lifetime();
        using var service = new StartedOnceSidecarListens(() => new FailsWhileRunning(), ready, NoDrain, null, lifetime, NullLogger<StartedOnceSidecarListens>.Instance);

        await service.StartAsync(CancellationToken.None);
        ready.Started();

        await Task.Delay(Timeout.Infinite, lifetime.ApplicationStopping).ContinueWith(_ => { }).WaitAsync(Bound);
        await service.StopAsync(CancellationToken.None).WaitAsync(Bound);
    }

    [Fact]
    public async Task A_worker_that_fails_to_start_stops_the_application()
    {
        var ready = new SidecarReadiness();
        var lifetime = new Lifetime();
        using var service = new StartedOnceSidecarListens(() => throw new InvalidOperationException("no worker"), ready, NoDrain, null, lifetime,
            NullLogger<StartedOnceSidecarListens>.Instance);

        await service.StartAsync(CancellationToken.None);
        ready.Started();

        await Task.Delay(Timeout.Infinite, lifetime.ApplicationStopping).ContinueWith(_ => { }).WaitAsync(Bound);
        await service.StopAsync(CancellationToken.None).WaitAsync(Bound);
    }

    [Fact]
    public void It_takes_the_place_of_the_hosted_service_AddDurableTaskWorker_registers()
    {
        var services = new ServiceCollection().AddLogging().AddSingleton<IHostApplicationLifetime, Lifetime>();
        services.AddSingleton<IHostedService, RecordingWorker>();
        var before = services.Count;
        services.AddDurableTaskWorker(worker => worker.UseGrpc());
        var position = services.ToList().FindLastIndex(d => d.ServiceType == typeof(IHostedService));

        StartedOnceSidecarListens.Wrap(services, before, new SidecarReadiness());

        using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        Assert.Equal(2, hosted.Count);
        Assert.IsType<RecordingWorker>(hosted[0]);
        Assert.IsType<StartedOnceSidecarListens>(hosted[1]);
        Assert.Equal(typeof(IHostedService), services[position].ServiceType);
    }

    sealed class FailsWhileRunning : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Delay(50, stoppingToken);
            throw new InvalidOperationException("the worker's stream broke for good");
        }
    }

    sealed class Lifetime : IHostApplicationLifetime
    {
        readonly CancellationTokenSource _stopping = new();
        public CancellationToken ApplicationStarted => CancellationToken.None;
        public CancellationToken ApplicationStopping => _stopping.Token;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() => _stopping.Cancel();
    }

    sealed class RecordingWorker : IHostedService
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Stopped { get; private set; }

        public Task StartAsync(CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            Stopped = true;
            return Task.CompletedTask;
        }
    }
}
