using Azure;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Functions.Hosting;
using Functions.Storage;
using Microsoft.Extensions.Options;

namespace Functions.Jobs;

/// <summary>
/// Standalone, this process takes its own jobs off the queue with bounded concurrency, keeping each message hidden
/// while its job runs. Under the Functions host the queue trigger does this instead (and this listener is off).
/// </summary>
public sealed class QueueListener(IServiceProvider services, IOptions<WorkerOptions> options, ILogger<QueueListener> logger)
    : BackgroundService
{
    static readonly TimeSpan FirstIdleDelay = TimeSpan.FromMilliseconds(100);
    readonly WorkerOptions _options = options.Value;
    TimeSpan Visibility => TimeSpan.FromSeconds(_options.VisibilityTimeoutSeconds);

    QueueClient _queue = null!;
    QueueClient _poison = null!;
    JobQueue _jobQueue = null!;
    JobWorker _worker = null!;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Hosted services start before the server listens: build the storage stack after that, not on the cold-start path.
        await Task.Yield();
        if (!_options.ListenerEnabled)
        {
            logger.LogInformation("Queue listener off: the Functions host's queue trigger delivers jobs");
            return;
        }
        (_queue, _poison, _jobQueue, _worker) = (services.GetRequiredKeyedService<QueueClient>(StorageNames.JobsQueue),
            services.GetRequiredKeyedService<QueueClient>(StorageNames.JobsPoisonQueue), services.GetRequiredService<JobQueue>(),
            services.GetRequiredService<JobWorker>());
        var bootstrap = services.GetRequiredService<StorageBootstrap>();
        var slots = new SemaphoreSlim(_options.Concurrency, _options.Concurrency);
        var running = new HashSet<Task>();
        var idle = FirstIdleDelay;
        var drained = false;
        logger.LogInformation("Queue listener started with concurrency {Concurrency}", _options.Concurrency);

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await bootstrap.EnsureCreatedAsync(stoppingToken);
                // A receive that got fewer messages than it asked for drained the queue: wait for new work before asking again.
                if (drained) await _jobQueue.WaitForWorkAsync(idle, stoppingToken);
                await slots.WaitAsync(stoppingToken);
                var free = 1;
                while (free < 32 && slots.Wait(0)) free++;

                var messages = await ReceiveOrReleaseAsync(slots, free, stoppingToken);
                drained = messages.Count < free;
                if (messages.Count == 0)
                {
                    idle = TimeSpan.FromMilliseconds(Math.Min(idle.TotalMilliseconds * 2, _options.MaxPollIntervalMilliseconds));
                    continue;
                }
                idle = FirstIdleDelay;
                lock (running)
                    foreach (var message in messages)
                    {
                        var task = HandleAsync(message, slots, stoppingToken);
                        running.Add(task);
                        _ = task.ContinueWith(t => { lock (running) running.Remove(t); }, TaskScheduler.Default);
                    }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Queue listener could not poll; retrying shortly");
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        Task[] inFlight;
        lock (running) inFlight = [.. running];
        await Task.WhenAll(inFlight).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    async Task<IReadOnlyList<QueueMessage>> ReceiveOrReleaseAsync(SemaphoreSlim slots, int free, CancellationToken stoppingToken)
    {
        IReadOnlyList<QueueMessage> messages = [];
        try
        {
            messages = (await _queue.ReceiveMessagesAsync(free, Visibility, stoppingToken)).Value;
            return messages;
        }
        finally
        {
            if (free > messages.Count) slots.Release(free - messages.Count);
        }
    }

    async Task HandleAsync(QueueMessage message, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        var lease = new MessageLease(message);
        using var renewing = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewal = RenewAsync(lease, renewing.Token);
        try
        {
            var outcome = await _worker.ProcessAsync(message.MessageText, message.DequeueCount, stoppingToken);
            await renewing.CancelAsync();
            await renewal;
            switch (outcome)
            {
                case WorkOutcome.Done:
                    await DeleteAsync(message, lease);
                    break;
                case WorkOutcome.Poison:
                    await _poison.SendMessageAsync(message.MessageText, TimeSpan.Zero, TimeSpan.FromSeconds(-1), CancellationToken.None);
                    await DeleteAsync(message, lease);
                    break;
                case WorkOutcome.Retry:
                    var backoff = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, message.DequeueCount)));
                    await _queue.UpdateMessageAsync(message.MessageId, lease.PopReceipt, (string?)null, backoff, CancellationToken.None);
                    break;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // The message reappears when its visibility lapses, and the next delivery resumes the job.
            logger.LogError(e, "Message {MessageId} for job {JobId} left for redelivery", message.MessageId, message.MessageText);
        }
        finally
        {
            await renewing.CancelAsync();
            slots.Release();
        }
    }

    // A message already gone (its visibility lapsed and another worker took and ended it) counts as deleted.
    async Task DeleteAsync(QueueMessage message, MessageLease lease)
    {
        try { await _queue.DeleteMessageAsync(message.MessageId, lease.PopReceipt, CancellationToken.None); }
        catch (RequestFailedException e) when (e.Status == StatusCodes.Status404NotFound) { }
    }

    // Keeps the message hidden while its job runs past half the visibility timeout.
    async Task RenewAsync(MessageLease lease, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Visibility / 2, cancellationToken);
                lease.PopReceipt = (await _queue.UpdateMessageAsync(lease.Message.MessageId, lease.PopReceipt, (string?)null, Visibility,
                    cancellationToken)).Value.PopReceipt;
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not renew message {MessageId}; another worker may take the job", lease.Message.MessageId);
        }
    }

    sealed class MessageLease(QueueMessage message)
    {
        public QueueMessage Message { get; } = message;
        public string PopReceipt { get; set; } = message.PopReceipt;
    }
}
