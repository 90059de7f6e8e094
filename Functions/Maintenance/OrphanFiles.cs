using Functions.Files;
using Functions.History;
using Functions.Storage;
using Microsoft.DurableTask.Client;

namespace Functions.Maintenance;

/// <summary>
/// Finds and removes the files nothing owns any more, which a storage outage or a crash can leave behind (DESIGN.md,
/// "Orphan files"): a generated image without its history row whose job (if it had one) has ended, and the private copy
/// of an inline reference image whose job never appeared or has ended (nothing reads it again). An upload is never
/// touched, nor a file younger than <see cref="MinimumAge"/>.
/// </summary>
public sealed class OrphanFiles(FileStore files, ImageHistory history, StorageBootstrap bootstrap, TimeProvider clock, ILogger<OrphanFiles> logger)
{
    /// <summary>Far past any store in progress (an inline generation ends within 220 s) and past a key's schedule grace.</summary>
    public static readonly TimeSpan MinimumAge = TimeSpan.FromHours(1);

    /// <summary>
    /// How long a reference copy is looked at (one instance read each, every sweep): a job appears within seconds of its
    /// copy or never, and ends within its deadline (Upstream:DeadlineSeconds, 600 s by default).
    /// </summary>
    public static readonly TimeSpan ReferenceCheckedUntil = TimeSpan.FromDays(1);

    /// <summary>
    /// Removes every orphan older than <see cref="MinimumAge"/> and returns their ids. On storage that never had the
    /// container and tables (a fresh account) or lost them, it makes them and finds nothing to remove.
    /// </summary>
    public Task<IReadOnlyList<string>> SweepAsync(DurableTaskClient durable, CancellationToken cancellationToken) =>
        bootstrap.AgainIfLostAsync(() => SweepStoredAsync(durable, cancellationToken), cancellationToken);

    async Task<IReadOnlyList<string>> SweepStoredAsync(DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // The history first, so that the listing keeps only the files it does not name (a million images would otherwise
        // be held with their metadata); a row written after this read is found by each candidate's own check below.
        var rows = new HistoryView(await history.KeptSinceAsync(cancellationToken), await history.FileIdsAsync(cancellationToken));
        var candidates = new List<StoredFile>();
        await foreach (var file in files.AllAsync(cancellationToken))
        {
            if (file.CreatedAt >= now - MinimumAge) continue;
            if (file.Kind == FileKinds.Generated ? !rows.FileIds.Contains(file.FileId)
                    : file.Kind == FileKinds.Reference && file.CreatedAt >= now - ReferenceCheckedUntil)
                candidates.Add(file);
        }
        var removed = new List<string>();
        foreach (var file in candidates)
        {
            if (!await IsOrphanAsync(file, rows, durable, cancellationToken) || !await files.DeleteAsync(file.FileId, cancellationToken)) continue;
            removed.Add(file.FileId);
            logger.LogWarning("Removed the orphan file {FileId} ({Kind}, stored {CreatedAt:u}, job {JobId})", file.FileId, file.Kind, file.CreatedAt,
                file.JobId ?? "none");
        }
        logger.LogInformation("Orphan sweep: {Candidates} generated images without a history row and reference copies looked at, {Removed} removed",
            candidates.Count, removed.Count);
        return removed;
    }

    /// <summary>The history as the sweep read it: since when its rows are a full record (null: it has none yet), and the files they name.</summary>
    sealed record HistoryView(DateTimeOffset? KeptSince, HashSet<string> FileIds);

    async Task<bool> IsOrphanAsync(StoredFile file, HistoryView rows, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        if (file.Kind == FileKinds.Reference)
            return file.JobId is { } job && await durable.GetInstanceAsync(job, getInputsAndOutputs: false, cancellationToken) is null or { IsCompleted: true };
        // A history lost (and made again empty) since the file was stored cannot say it owns none: its bytes may be all that is left of it.
        if (rows.KeptSince is not { } since || file.CreatedAt < since || rows.FileIds.Contains(file.FileId)) return false;
        if (file.JobId is { } owner && await durable.GetInstanceAsync(owner, getInputsAndOutputs: false, cancellationToken) is { IsCompleted: false })
            return false; // its Store may still write the row
        return await history.FindByKeyAsync(file.HistoryKey, cancellationToken) is not { } row || row.FileId != file.FileId;
    }
}
