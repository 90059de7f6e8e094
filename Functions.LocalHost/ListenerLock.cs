using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;

namespace Functions.LocalHost;

/// <summary>
/// The Functions host's singleton listener lock for one timer function: a lease on the blob
/// <c>azure-webjobs-hosts/locks/{hostId}/Host.Functions.{name}.Listener</c>, so that of the processes of one app on one
/// storage account only the holder runs the timer. The lease lasts <see cref="Period"/> and is renewed every third of
/// it; when a renewal fails (the lease broken or taken, storage unreachable) the timer stops until the lock is held again,
/// which is tried as often. A stop releases it, so that another process takes over at its next try.
/// </summary>
public sealed class ListenerLock(BlobServiceClient blobs, string hostId, string function, ILogger logger)
{
    public const string Container = "azure-webjobs-hosts";
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan Renewal = Period / 3;

    readonly BlobClient _blob = blobs.GetBlobContainerClient(Container).GetBlobClient($"locks/{hostId}/Host.Functions.{function}.Listener");
    bool _unreachable;

    /// <summary>
    /// Until <paramref name="stopping"/>: each time this process takes the lock, runs <paramref name="whileHeld"/> with a
    /// token canceled when the lock is lost or the host stops, and waits for it to end. Waits on real time, not the
    /// host's clock: the lease runs out on the storage's.
    /// </summary>
    public async Task HoldAsync(Func<CancellationToken, Task> whileHeld, CancellationToken stopping)
    {
        // One lease id for the process's life: after an outage, acquiring again finds the lease still ours.
        var lease = _blob.GetBlobLeaseClient();
        while (!stopping.IsCancellationRequested)
        {
            if (await TryAsync(token => AcquireAsync(lease, token), stopping))
            {
                logger.LogInformation("This process holds the lock {Lock}: it runs the timer function {Function}", _blob.Name, function);
                using var held = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                var timer = whileHeld(held.Token);
                while (await DelayAsync(Renewal, stopping) && await TryAsync(token => lease.RenewAsync(cancellationToken: token), stopping)) { }
                await held.CancelAsync();
                await timer;
                if (stopping.IsCancellationRequested)
                {
                    await ReleaseAsync(lease);
                    return;
                }
                logger.LogWarning("The lock {Lock} could not be renewed: this process stops running {Function} until it holds the lock again",
                    _blob.Name, function);
            }
            await DelayAsync(Renewal, stopping);
        }
    }

    async Task AcquireAsync(BlobLeaseClient lease, CancellationToken token)
    {
        try
        {
            await lease.AcquireAsync(Period, cancellationToken: token);
        }
        catch (RequestFailedException e) when (e.Status == 404) // the first process of the app, or storage that lost the container
        {
            await _blob.GetParentBlobContainerClient().CreateIfNotExistsAsync(cancellationToken: token);
            try
            {
                await _blob.UploadAsync(BinaryData.Empty, overwrite: false, token);
            }
            catch (RequestFailedException made) when (made.ErrorCode == "BlobAlreadyExists") { } // by another process meanwhile
            await lease.AcquireAsync(Period, cancellationToken: token);
        }
    }

    // False when another process holds the lease (409), or when storage failed or took longer than a renewal may (the
    // lease would run out meanwhile): a warning at the first failure of a run of them, with no stack (each try repeats it).
    async Task<bool> TryAsync(Func<CancellationToken, Task> call, CancellationToken stopping)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        bound.CancelAfter(Renewal);
        try
        {
            await call(bound.Token);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // At Debug: a process that does not hold the lock is refused at every try, for as long as the holder runs.
            logger.LogDebug("The lock {Lock} of the timer function {Function} is held by another process; trying again every {Seconds} s",
                _blob.Name, function, Renewal.TotalSeconds);
            _unreachable = false;
            return false;
        }
        catch (Exception e)
        {
            if (!_unreachable && !stopping.IsCancellationRequested)
                logger.LogWarning("The lock {Lock} of the timer function {Function} could not be reached; trying again every {Seconds} s: {Error}",
                    _blob.Name, function, Renewal.TotalSeconds, Reason(e));
            _unreachable = true;
            return false;
        }
        _unreachable = false;
        return true;
    }

    // Bounded: the host's stop has ListenAddress.ShutdownBound in all, and a lease storage cannot be told about runs out on its own.
    async Task ReleaseAsync(BlobLeaseClient lease)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await lease.ReleaseAsync(cancellationToken: bound.Token);
            logger.LogInformation("Released the lock {Lock} of the timer function {Function}", _blob.Name, function);
        }
        catch (Exception e)
        {
            logger.LogWarning("The lock {Lock} was not released ({Error}); it runs out within {Seconds} s", _blob.Name, Reason(e), Period.TotalSeconds);
        }
    }

    // In a line: a storage answer's status and code (its message lists every header), the last of the clients' retries.
    static string Reason(Exception e) => e switch
    {
        RequestFailedException { Status: > 0 } answer => $"{answer.Status} {answer.ErrorCode}",
        AggregateException { InnerExceptions: [.., var last] } => Reason(last),
        OperationCanceledException => "no answer in time",
        _ => e.Message,
    };

    static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stopping)
    {
        await Task.Delay(delay, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return !stopping.IsCancellationRequested;
    }
}
